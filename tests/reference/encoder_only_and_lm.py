"""PyTorch references of torchzoo's TransformerEncoderClassifier and
DecoderOnlyLM, written from the annotated Transformer's modules
(annotated_transformer.py) the way a PyTorch user would put them together:
a BERT-style classifier (embeddings plus sinusoidal or learned positions, the
annotated Encoder, a pooled vector -- first position or masked mean --,
dropout and a linear head) and a GPT-style language model (the same
embeddings, the Encoder's pre-norm layers under a causal mask, the
Generator). Their state_dict names are the ones torchzoo's models document.
"""

import copy

import torch
from torch import nn

import annotated_transformer as at


class LearnedPositions(nn.Module):
    "x + weight[:T], then dropout (BERT's position embeddings)."

    def __init__(self, d_model, max_len, dropout):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(max_len, d_model))
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        return self.dropout(x + self.weight[: x.size(1)])


class EncoderClassifier(nn.Module):
    def __init__(self, vocab, num_classes, N=2, d_model=16, d_ff=32, h=4, dropout=0.0, max_len=64,
                 pooling="cls", learned_positions=False):
        super().__init__()
        c = copy.deepcopy
        attn = at.MultiHeadedAttention(h, d_model, dropout)
        ff = at.PositionwiseFeedForward(d_model, d_ff, dropout)
        positions = (LearnedPositions(d_model, max_len, dropout) if learned_positions
                     else at.PositionalEncoding(d_model, dropout, max_len))
        self.embed = nn.Sequential(at.Embeddings(d_model, vocab), positions)
        self.encoder = at.Encoder(at.EncoderLayer(d_model, c(attn), c(ff), dropout), N)
        self.dropout = nn.Dropout(p=dropout)
        self.head = nn.Linear(d_model, num_classes)
        self.pooling = pooling

    def forward(self, tokens, mask):
        hidden = self.encoder(self.embed(tokens), mask)  # [B, T, d_model]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask.squeeze(1).unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return self.head(self.dropout(pooled))  # [B, num_classes]


class DecoderOnlyLM(nn.Module):
    """GPT-style language model from the annotated modules: embeddings plus
    positions, pre-norm EncoderLayers run under a causal mask (the annotated
    Encoder, final LayerNorm included) and the Generator."""

    def __init__(self, vocab, N=2, d_model=16, d_ff=32, h=4, dropout=0.0, max_len=64, learned_positions=True,
                 activation="gelu"):
        super().__init__()
        c = copy.deepcopy
        attn = at.MultiHeadedAttention(h, d_model, dropout)
        ff = at.PositionwiseFeedForward(d_model, d_ff, dropout, activation=activation)
        positions = (LearnedPositions(d_model, max_len, dropout) if learned_positions
                     else at.PositionalEncoding(d_model, dropout, max_len))
        self.embed = nn.Sequential(at.Embeddings(d_model, vocab), positions)
        self.decoder = at.Encoder(at.EncoderLayer(d_model, c(attn), c(ff), dropout), N)
        self.generator = at.Generator(d_model, vocab)

    def forward(self, tokens, mask):
        return self.decoder(self.embed(tokens), mask)  # [B, T, d_model]

#!/usr/bin/env python3
"""A fine-tuned bert_classifier, exported with `torchzoo export --format safetensors`, loads in
transformers' BertForSequenceClassification and gives torchzoo's probabilities.

    export_to_transformers.py --bin build/torchzoo --bert-dir build/tests/bert --source-dir .

Fine-tunes all-MiniLM-L6-v2 (the fixture's folder) for 10 steps on the small language-ID
fixture, exports it into a folder (model.safetensors under Hugging Face's names, config.json
with the labels, tokenizer.json), loads that folder with from_pretrained, and compares the
class probabilities of the validation texts with `torchzoo predict --top 5` (printed to 4
decimals). Prints "SKIPPED: ..." and exits 0 where the model package is not installed.
"""

import argparse
import os
import subprocess
import sys
import tempfile

CONFIG = """model: {{name: bert_classifier, init_from: '{model}', num_classes: 5}}
data: {{name: text_classification, train: '{fixtures}/tiny_langid_train.tsv',
  valid: '{fixtures}/tiny_langid_valid.tsv', max_tokens: 62, batch_tokens: 1024}}
loss: {{name: cross_entropy}}
optimizer: {{name: adamw, lr: 1.0e-4}}
train: {{epochs: 10, max_steps: 10, seed: 1, log_every: 0, device: cpu, autocast: none}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--bert-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    model_dir = os.path.join(args.bert_dir, "minilm")
    if os.path.exists(os.path.join(model_dir, "SKIPPED")):
        print(open(os.path.join(model_dir, "SKIPPED")).read().strip())
        return 0
    import torch
    from tokenizers import Tokenizer
    from transformers import BertForSequenceClassification

    fixtures = os.path.join(os.path.abspath(args.source_dir), "tests", "data", "fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "bert.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(model=os.path.abspath(model_dir), fixtures=fixtures))
        run = os.path.join(tmp, "run")
        subprocess.run([args.bin, "train", config, "--out", run], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        checkpoint = os.path.join(run, "checkpoint.pt")
        exported = os.path.join(tmp, "hf")
        os.makedirs(exported)
        subprocess.run([args.bin, "export", "--checkpoint", checkpoint, "--format", "safetensors", "-o",
                        os.path.join(exported, "model.safetensors")], check=True)
        with open(os.path.join(fixtures, "tiny_langid_valid.tsv"), encoding="utf-8") as f:
            texts = [line.rstrip("\n").split("\t", 1)[1] for line in f if line.strip()]
        predicted = subprocess.run([args.bin, "predict", "--checkpoint", checkpoint, "--top", "5"],
                                   input="\n".join(texts) + "\n", text=True, check=True,
                                   capture_output=True).stdout.splitlines()

        model = BertForSequenceClassification.from_pretrained(exported).eval()
        tokenizer = Tokenizer.from_file(os.path.join(exported, "tokenizer.json"))
        tokenizer.no_padding()
        worst = 0.0
        for text, line in zip(texts, predicted):
            ids = tokenizer.encode(text).ids
            with torch.no_grad():
                probabilities = model(input_ids=torch.tensor([ids])).logits.softmax(-1)[0]
            fields = line.split("\t")
            for label, value in zip(fields[0::2], fields[1::2]):
                theirs = probabilities[model.config.label2id[label]].item()
                worst = max(worst, abs(theirs - float(value)))
        print(f"{len(texts)} texts: transformers' BertForSequenceClassification on the exported folder vs "
              f"torchzoo predict: max |probability difference| {worst:.1e} (predict prints 4 decimals)")
        if len(predicted) != len(texts) or worst > 1.5e-4:
            sys.exit("FAILED: the exported model's probabilities differ from torchzoo's")
    return 0


if __name__ == "__main__":
    sys.exit(main())

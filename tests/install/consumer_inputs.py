"""Inputs and expected output for examples/consumer, from a TorchScript file `torchzoo export` wrote.

    python consumer_inputs.py --model DIR/model.pt --out DIR
      DIR/inputs.pt  [src, tgt, src_mask, tgt_mask]: the encoder-decoder forward's arguments, torch.save'd
      DIR/expect.pt  the forward's output as Python computes it (torch.jit.load), torch.save'd

`consumer --script DIR/model.pt --inputs DIR/inputs.pt --expect DIR/expect.pt` must reproduce the
output in C++, at a batch size and lengths of its own.
"""
import argparse
import pathlib
import warnings

import torch

# torch.jit.load warns that TorchScript is deprecated upstream (PyTorch >= 2.11); loading works on the pinned torch.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.load` is deprecated", category=DeprecationWarning)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    module = torch.jit.load(str(args.model))
    torch.manual_seed(0)
    src = torch.randint(1, 11, (3, 7))
    tgt = torch.randint(1, 11, (3, 5))
    src[2, 5:] = 0  # padding
    src_mask = (src != 0).unsqueeze(1)  # [B, 1, T_src]
    tgt_mask = torch.ones(5, 5, dtype=torch.bool).tril().unsqueeze(0)  # [1, T_tgt, T_tgt]
    with torch.no_grad():
        expected = module(src, tgt, src_mask, tgt_mask)
    torch.save([src, tgt, src_mask, tgt_mask], args.out / "inputs.pt")
    torch.save(expected, args.out / "expect.pt")
    print(f"wrote {args.out}/inputs.pt, expect.pt (output {list(expected.shape)})")


if __name__ == "__main__":
    main()

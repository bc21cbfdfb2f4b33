#!/usr/bin/env python3
"""Writes PNG seeds in the forms torchzoo's writer does not make (palette, transparency,
alpha, 16-bit, 1-bit), so that png_fuzzer starts from every branch of read_png's
conversions. The committed ones (tests/fuzz/corpus/png/) were made by:

  pip install pillow && python3 tests/fuzz/make_png_seeds.py tests/fuzz/corpus/png

Pillow is needed only to make them; fuzzing and the tests read the committed files.
"""
import pathlib
import sys

import numpy as np
from PIL import Image


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ramp = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    palette = Image.fromarray(ramp % 4, mode="L").convert("P")
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    palette.save(out / "palette.png")
    palette.save(out / "palette_transparent.png", transparency=2)
    palette.save(out / "palette_2bit.png", bits=2)
    Image.fromarray(np.stack([ramp, 255 - ramp], axis=-1), mode="LA").save(out / "grey_alpha.png")
    rgba = np.stack([ramp, ramp // 2, 255 - ramp, ramp], axis=-1)
    Image.fromarray(rgba, mode="RGBA").save(out / "rgba.png")
    Image.fromarray(ramp.astype(np.uint16) * 257).save(out / "grey16.png")
    Image.fromarray(ramp > 100).save(out / "bilevel.png")
    Image.fromarray(np.stack([ramp] * 3, axis=-1), mode="RGB").save(out / "rgb_gamma.png", gamma=0.45)


if __name__ == "__main__":
    main()

"""WiSE-FT of a tuned embedder: its weights averaged with its base model's, tensor by tensor,
θ = α·θ_tuned + (1 − α)·θ_base (Wortsman et al. 2022, "Robust fine-tuning of zero-shot models").
The average keeps more of the base's behaviour on questions unlike the training ones. Score the
result next to both with ``python -m oracle eval --mode retrieval --embedder BASE --embedder TUNED
--embedder OUT`` (bench/RESULTS.md, session 26).

    python bench/wise_ft.py ~/.cache/oracle/models/multilingual-e5-small \\
        $ORACLE_HOME/embedders/s26-emb $ORACLE_HOME/embedders/s26-wise50 --alpha 0.5

Both folders are sentence-transformers folders of the same architecture with one
``model.safetensors``; OUT is a copy of TUNED (its tokenizer, pooling and prompts) with the
averaged weights. Raises SystemExit when the two hold different tensors.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="The base embedder's folder.")
    parser.add_argument("tuned", type=Path, help="The tuned embedder's folder (the same architecture).")
    parser.add_argument("out", type=Path, help="New folder for the averaged embedder (must not exist).")
    parser.add_argument("--alpha", type=float, default=0.5, help="Weight of the tuned model, in [0, 1].")
    args = parser.parse_args()
    if not 0.0 <= args.alpha <= 1.0:
        parser.error("--alpha must be in [0, 1]")

    from safetensors.torch import load_file, save_file

    base = load_file(args.base / "model.safetensors")
    tuned = load_file(args.tuned / "model.safetensors")
    if set(base) != set(tuned):
        raise SystemExit(f"different tensors: {sorted(set(base) ^ set(tuned))[:5]}")
    mixed = {name: (args.alpha * t.float() + (1 - args.alpha) * base[name].float()).to(t.dtype)
             if t.is_floating_point() else t for name, t in tuned.items()}
    shutil.copytree(args.tuned, args.out)
    save_file(mixed, str(args.out / "model.safetensors"), metadata={"format": "pt"})
    print(f"{args.out}: {len(mixed)} tensors, alpha {args.alpha}")


if __name__ == "__main__":
    main()

"""Fine-tuning the RAG components on data made from the user's own documents.

The embedding model first (:mod:`oracle.training.embedding`: the retriever finds the right
chunk more often), then the generator (:mod:`oracle.training.lora`: a LoRA adapter that
answers from the retrieved chunks more faithfully). Both are fed by
:mod:`oracle.training.data`: the QA pairs of ``data_qa/*.qa.jsonl`` plus the validated
ratings, with a held-out split that is never trained on, and the RAFT recipe (gold chunk
among retrieved distractors, sometimes absent; Zhang et al., 2024).

Every run leaves its run card ``train.json`` (:class:`oracle.training.card.RunCard`, written and
read only there); generator adapters live in ``adapters/``, tuned embedders in ``embedders/``, and
:func:`oracle.training.card.list_runs` is the one listing of runs.

:mod:`oracle.training.export` merges an adapter into a standalone model and pushes to the
Hugging Face Hub; :mod:`oracle.training.cost` estimates and reports what a run costs;
:mod:`oracle.training.run` is the entry point of the background process that
:mod:`oracle.jobs` starts. Every module here imports torch/transformers/peft lazily.
"""

"""CONTRACT STUB (to be replaced by the index helper)."""
from __future__ import annotations


class VectorIndex:
    """Dense retriever: sentence-transformers embeddings in FAISS IndexIDMap2(IndexFlatIP) on normalised
    vectors, plus the chunks. Attributes: name, embedder (model name), dim, chunks (list[Chunk]).

    VectorIndex.create(embedder: str, name='default'); .add(chunks, progress=None) -> int (new chunks;
    chunk ids already present are skipped); .remove_document(doc_id) -> int; .search(query, top_k=4) -> [Hit];
    .search_batch(queries, top_k) -> [[Hit]]; .save(path) writes index.faiss, chunks.jsonl, index.json atomically;
    VectorIndex.load(path) (raises IndexNotFoundError); .documents() -> {doc_id: n_chunks}; len(index) = n chunks.
    """


def build_index(documents, workspace, name="default", embedder=None, chunking=None, progress=None):
    """Chunk documents, embed, add to indexes/<name> (created or updated incrementally), save. -> VectorIndex"""
    raise NotImplementedError


def load_index(workspace, name="default"):
    raise NotImplementedError

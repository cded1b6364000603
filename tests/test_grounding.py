"""Answer checks without a judge model: key facts (accent folding, whole words), echo
detection, unsupported claims, quote verification, faithfulness, lexical coverage."""

from __future__ import annotations

from oracle.grounding import (
    asks_for_email,
    asks_for_number,
    claims,
    code_tokens,
    contains_fact,
    cut_loop,
    faithfulness,
    fold,
    gives_email,
    gives_figure,
    is_deferral,
    is_echo,
    is_heading,
    is_looping,
    is_polar_question,
    keyfact_scores,
    question_coverage,
    quote_support,
    support_sentence,
    unsupported_claims,
    verify_quote,
)

SOURCE = ("O valor total destinado a esta chamada é de R$ 250.000,00 (duzentos e cinquenta mil reais). "
          "Cada projeto aprovado receberá no máximo R$ 25.000,00. As inscrições vão até 31 de março de 2026. "
          "O servidor principal usa o IP 10.0.2.2 e o Squid.")


def test_fold_removes_accents_case_and_spaces():
    assert fold("  Inscrição\n ÚNICA  ") == "inscricao unica"


def test_contains_fact_is_accent_and_case_insensitive():
    assert contains_fact("As INSCRICOES terminam em 31 de marco.", "inscrições")
    assert contains_fact("Use o comando apt-get update.", "APT-GET UPDATE")


def test_short_facts_match_whole_words_only():
    assert contains_fact("Sim, é possível.", "sim")
    assert not contains_fact("Assim é feito.", "sim")
    assert not contains_fact("São 100 projetos.", "10")
    assert contains_fact("São 10 projetos.", "10")
    assert contains_fact("Edite o /etc/fstab.", "/etc")  # punctuation at the edges is not a word character
    assert not contains_fact("Edite o /etcetera.", "/etc")
    assert not contains_fact("qualquer coisa", "")


def test_keyfact_scores_all_and_share():
    facts = [["256 MiB", "256 MB"], ["LTSP"], ["thin client", "cliente magro"]]
    assert keyfact_scores("Cada cliente magro precisa de 256 MB via LTSP [1].", facts) == (True, 1.0)
    ok, share = keyfact_scores("Precisa de 256 MiB.", facts)
    assert not ok and abs(share - 1 / 3) < 1e-9
    assert keyfact_scores("qualquer", []) == (True, 1.0)


def test_echo_detection():
    question = "Qual é a versão mais recente do Debian Edu?"
    assert is_echo("2.1 Qual é a versão mais recente do Debian Edu [1]?", question)
    # a figure with its unit is no section number: it is the answer
    size = "De que tamanho é, aproximadamente, a imagem ISO BD do Debian Edu 12?"
    assert not is_echo("7.5 GB [2]", size) and gives_figure("7.5 GB [2]", size)
    assert not gives_figure("2.1 Tamanho da imagem ISO BD [1]", size)
    assert is_echo("", question)
    assert is_echo("Sim [1].", "O Debian Edu suporta LTSP?")
    assert not is_echo("A versão mais recente é o Debian Edu 12 Bookworm [1].", question)
    assert not is_echo("São necessários 256 MiB de RAM.", "Quanta memória RAM um cliente precisa?")


def test_claims_finds_numbers_and_names_not_sentence_starts():
    found = claims("O valor é R$ 1.200 [1]. Ele foi criado na Noruega em 2001, segundo Petter.")
    assert "1.200" in found and "2001" in found and "Noruega" in found and "Petter" in found
    assert "O" not in found and "Ele" not in found


def test_unsupported_claims_flags_a_number_absent_from_the_sources():
    assert unsupported_claims("O valor da bolsa é R$ 1.200.", [SOURCE]) == ["1.200"]
    assert unsupported_claims("Cada projeto recebe R$ 25.000,00 [2].", [SOURCE]) == []
    assert unsupported_claims("O total é R$ 250000.", [SOURCE]) == []  # thousand separators ignored
    assert unsupported_claims("O IP é 10.0.2.2.", [SOURCE]) == []
    assert unsupported_claims("O IP é 10.0.2.3.", [SOURCE]) == ["10.0.2.3"]
    assert unsupported_claims("O prazo termina em 31 de março, conforme a Prefeitura de Curitiba.", [SOURCE]) \
        == ["Prefeitura", "Curitiba"]
    # a number the question itself gives is not invented by the answer
    assert unsupported_claims("Sim, o edital 12/2026 existe.", [SOURCE], question="O edital 12/2026 existe?") == []


def test_verify_quote_after_normalisation():
    assert verify_quote("cada projeto aprovado  receberá no MÁXIMO R$ 25.000,00", SOURCE)
    assert verify_quote("Cada projeto aprovado receberá no máximo…", SOURCE)
    assert not verify_quote("Cada projeto receberá R$ 30.000,00", SOURCE)
    assert not verify_quote("", SOURCE)


def test_verify_quote_ignores_typography_but_not_words_or_numbers():
    chunk = "Dica: para remover ”^H” de um ficheiro, filtre-o com ”col -b -x”. • O limite é 25.000,00 bytes."
    # a copy whose quotation marks, colon and bullet differ still quotes the chunk
    assert verify_quote("Dica para remover '^H' de um ficheiro, filtre-o com `col -b -x`.", chunk)
    assert verify_quote("- O limite é 25.000,00 bytes", chunk)
    # a changed word, a changed number or a reordering does not
    assert not verify_quote("Dica: para apagar ”^H” de um ficheiro", chunk)
    assert not verify_quote("O limite é 25,000 bytes", chunk)
    assert not verify_quote("O limite é 25 000 00 bytes", chunk)
    assert not verify_quote("filtre-o com ”col -x -b”", chunk)
    assert not verify_quote("”…”", chunk)


def test_support_sentence_picks_the_sentence_with_the_figure():
    sentence, score = support_sentence("Cada projeto recebe no máximo R$ 25.000,00.", SOURCE)
    assert sentence == "Cada projeto aprovado receberá no máximo R$ 25.000,00."
    assert score > 0.5
    assert support_sentence("qualquer", "") == ("", 0.0)


def test_support_sentence_does_not_count_a_section_number_as_words():
    chunk = "11.3.3 Resumo do site\nO resumo do site é mantido pelo administrador da rede."
    # "11.3.3 Resumo do site" has six \w+ tokens but three words: a heading, skipped
    sentence, _ = support_sentence("Quem gerencia o resumo do site?", chunk, min_words=6)
    assert sentence == "O resumo do site é mantido pelo administrador da rede."
    assert support_sentence("Quem gerencia o resumo do site?", chunk)[0] == "11.3.3 Resumo do site"


def test_is_heading_is_a_numbered_line_of_a_source():
    sources = ["texto anterior.\n11.3.3 Resumo do site\nO resumo do site é mantido pelo administrador.",
               "1.9.2 Ubuntu Backports oficial\nOs backports trazem versões novas."]
    assert is_heading("11.3.3 Resumo do site [1]", sources)
    assert is_heading("1. 1.9.2 Ubuntu Backports oficial [2]", sources)  # list enumerator first
    assert is_heading("11.3.3 resumo do SITE.", sources)  # case, accents and a final stop not compared
    # not a line of its own in any source, though it starts with a number like one
    assert not is_heading("12.04 é a versão LTS [1]", sources + ["A versão 12.04 é a versão LTS."])
    assert not is_heading("11.3.3 Resumo do site", ["O capítulo 11.3.3 Resumo do site fala disso."])
    # no section number, more than one line, or longer than a heading
    assert not is_heading("O resumo do site é mantido pelo administrador.", sources)
    assert not is_heading("11.3.3 Resumo do site\nO resumo do site é mantido pelo administrador.", sources)
    long = "1.2 " + " ".join(["palavra"] * 13)
    assert not is_heading(long, [long])
    assert not is_heading("7.5 GB [1]", ["7.5 GB"])  # a figure with its unit is an answer


def test_cut_loop_keeps_what_came_before_the_loop():
    loop = "\n".join(f"{i}. 1.9.2 Ubuntu Backports oficial [1]" for i in range(1, 6)) + "\n6. 1.9.2 Ubu"
    assert is_looping(loop) and cut_loop(loop) == "1. 1.9.2 Ubuntu Backports oficial [1]"
    steps = ("1. Instalar pacotes [1]\n2. Remover pacotes [1]\n3. Configurar o pbuilder [3]\n"
             "4. Configurar o pbuilder [3]\n5. Configurar o pbuilder [3]\n6. Configurar")
    assert cut_loop(steps) == "1. Instalar pacotes [1]\n2. Remover pacotes [1]\n3. Configurar o pbuilder [3]"
    inline = "A cota é de 2 GB [1]. A cota é de 2 GB [1]. A cota é de 2 GB [1]. A cota"
    assert cut_loop(inline) == "A cota é de 2 GB [1]."
    # said twice is not a loop: a step list may rightly repeat a remark
    twice = ("1. Rode make (troque X pelo nome do pacote).\n"
             "2. Rode make install (troque X pelo nome do pacote).")
    assert not is_looping(twice) and cut_loop(twice) is twice
    # one-word units (list numbers, code fences) never make a loop
    fences = "```\nmake\n```\n```\nmake install\n```\n```\nmake check\n```"
    assert cut_loop(fences) is fences
    assert cut_loop("") == "" and not is_looping("Sim.")


def test_cut_loop_stops_a_piece_repeated_in_a_row():
    assert cut_loop("22.1.3 Em alemão: 12.000,000,000,000,000,000,000,000,000,000") == "22.1.3 Em alemão: 12.000"
    assert cut_loop("edit-patch " * 9) == "edit-patch"
    # seven times is not yet a loop; dot leaders and rules hold no letter or digit
    seven = "O valor é 1" + ",000" * 6
    assert not is_looping(seven)
    for text in ("Índice . . . . . . . . . . . . . 12", "-" * 30, "| --- " * 10 + "|"):
        assert cut_loop(text) is text


def test_quote_support_is_what_the_quote_states_of_what_the_answer_adds():
    question = "Quando e onde foi fundado o projeto Skolelinux?"
    quote = "O projeto Skolelinux foi fundado em 2 de julho de 2001 na Noruega."
    assert quote_support("Em 2 de julho de 2001, na Noruega.", quote, question) == 1.0
    # another sentence of the same chunk: the answer's year is not in it
    assert quote_support("Em 2001.", "O Debian Edu é uma distribuição Debian.", question) == 0.0
    # a name the quote does not state sinks the support even when the other words are in it
    assert quote_support("Fundado em julho de 2001 por Kerberos.", quote, question) == 0.0
    # half of the new words: "noruega" is stated, "suecia" is not
    assert quote_support("noruega suecia", quote, question) == 0.5
    # an answer that adds nothing to the question is left to the echo check
    assert quote_support("O projeto Skolelinux.", quote, question) == 1.0


def test_faithfulness_counts_supported_sentences():
    assert faithfulness("Cada projeto aprovado receberá no máximo R$ 25.000,00.", [SOURCE]) == 1.0
    half = faithfulness("As inscrições vão até 31 de março de 2026. A bolsa é de R$ 900 por mês.", [SOURCE])
    assert half == 0.5
    assert faithfulness("", [SOURCE]) == 0.0


def test_question_coverage_weights_rare_words():
    chunks = ["O servidor principal usa o IP 10.0.2.2.", "Configure o servidor com o Squid."]
    assert question_coverage("Qual IP o servidor principal usa?", chunks) == 1.0
    assert question_coverage("Qual é o valor da bolsa de estudos para professores?", chunks) == 0.0
    df = {"servi": 50, "bolsa": 1}
    partial = question_coverage("O servidor paga bolsa?", chunks, df, 100)
    assert 0 < partial < 0.5  # the rare, absent word weighs more than the common, present one


def test_one_new_word_is_an_answer_not_an_echo():
    assert not is_echo("O builder padrão usado pelo ubuntu-dev-tools é pbuilder.",
                       "Qual é o builder padrão usado pelo ubuntu-dev-tools?")


def test_a_negated_restatement_answers_a_yes_no_question():
    question = "Se eu esquecer do quilt add antes de editar um arquivo, a mudança entra no patch?"
    assert not is_echo("Se você esquecer do quilt add, a mudança não entra no patch.", question)
    assert is_echo("Se você esquecer do quilt add, a mudança entra no patch.", question)
    assert is_echo("Não.", "É possível renomear vários arquivos?")  # names nothing, as a bare "Sim."


def test_a_command_option_is_an_answer_although_it_is_short():
    question = "Qual opção do cp é recomendada para copiar uma pasta com todas as subpastas?"
    assert not is_echo("A opção `-R` do cp é recomendada para copiar uma pasta com todas as subpastas.", question)
    assert is_echo("A opção do cp é recomendada para copiar uma pasta com todas as subpastas.", question)
    assert code_tokens("Use cp -R ou edite /etc/pam.d/common-session e debian/rules.") == {
        "-r", "/etc/pam.d/common-session", "debian/rules"}


def test_list_enumerators_are_not_claims():
    steps = "Para criar a imagem:\n1. Instale o pacote.\n2) Rode o comando autopkgtest-buildvm-ubuntu-cloud."
    assert claims(steps) == []
    assert unsupported_claims(steps, ["Instale o pacote e rode autopkgtest-buildvm-ubuntu-cloud."]) == []


def test_first_word_of_a_markdown_list_item_is_not_a_name():
    assert claims("Faça assim:\n\n1. **Instalar** os pacotes.\n- Construir o ambiente.") == []


def test_number_context_flags_a_figure_that_belongs_to_something_else():
    from oracle.grounding import number_context

    question = "Qual é o salário do prefeito de São João das Águas?"
    assert number_context("O salário do prefeito é de R$ 250.000,00 [1].", [SOURCE], question) < 0.15
    right = "Qual o valor máximo que cada projeto aprovado recebe?"
    assert number_context("Cada projeto recebe no máximo R$ 25.000,00.", [SOURCE], right) > 0.5
    assert number_context("Não há número aqui.", [SOURCE], question) == 1.0


def test_yes_no_questions_are_told_from_open_and_choice_questions():
    assert is_polar_question("Posso atualizar diretamente um servidor Debian Edu 10 para o 12?")
    assert is_polar_question("Se eu formatar o pen-drive com mkfs.ext2, vou conseguir lê-lo no Windows?")
    assert is_polar_question("É verdade que o rmdir apaga pastas cheias?")  # "que" inside a clause
    assert not is_polar_question("Que comando mostra os discos?")  # "que" opening the question
    assert not is_polar_question("Meu roteador não tem DHCP; que valores devo informar?")
    assert not is_polar_question("O que faz o comando ls?")
    assert not is_polar_question("Quanta RAM é recomendada?")
    assert not is_polar_question("Devo instalar a arquitetura amd64 ou a i386?")  # a choice
    assert is_polar_question("Do I need a permit to build a shed?", "en")
    assert not is_polar_question("How do I get a permit?", "en")
    assert not is_polar_question("The permit, is it needed?", "en")  # no auxiliary verb first
    assert not is_polar_question("¿Necesito un permiso?", "es")  # only Portuguese and English
    assert not is_polar_question("")


def test_questions_that_ask_for_a_figure():
    assert asks_for_number("Quantos projetos serão escolhidos?")
    assert asks_for_number("Qual versão do Moodle vem instalada?")
    assert asks_for_number("Em que data foi lançada a versão 5.0?")
    assert asks_for_number("How many schools use it?")
    assert not asks_for_number("Como conto quantas linhas tem um arquivo?")  # asks for a command
    assert not asks_for_number("De quanto em quanto tempo sai uma nova versão?")
    assert not asks_for_number("Qual é o prazo final para se inscrever?")
    assert gives_figure("Serão selecionados até dez projetos [1].") and gives_figure("Versão 12.")
    assert not gives_figure("O Moodle vem instalado em uma máquina [4].")
    question = "Qual versão do Moodle vem instalada no Debian Edu 12?"
    assert not gives_figure("O Moodle vem instalado no Debian Edu 12 [4].", question)  # the question's own number
    assert gives_figure("O Debian Edu 12 traz o Moodle 4.1 [4].", question)
    assert not gives_figure("2.1.2 Canais de IRC [1]", "Quantos desenvolvedores MOTU existem?")  # a section number


def test_questions_that_ask_for_an_email_address():
    assert asks_for_email("Qual é o e-mail da equipe de segurança do Debian?")
    assert asks_for_email("Qual o endereço de e-mail interno de um usuário com login jdoe?")
    assert asks_for_email("Para qual email envio os documentos do recurso?")
    assert asks_for_email("What is the contact e-mail address of the office?")
    # the e-mail is not what is asked for: a variable, a program
    assert not asks_for_email("Qual variável guarda meu nome e e-mail?")
    assert not asks_for_email("Qual é o agente de transporte de e-mail (MTA) padrão do Debian?")
    assert not asks_for_email("Como configuro o e-mail no Thunderbird?")
    assert gives_email("O endereço interno é jdoe@postoffice.intern [1].")
    assert not gives_email("A equipe pode ser encontrada em http://security.debian.org/ [4].")
    assert not gives_email("Envie um e-mail para a equipe de segurança [2].")


def test_seeks_figure_finds_a_figure_asked_for_anywhere_in_the_question():
    from oracle.grounding import seeks_figure

    assert seeks_figure("Segundo o edital, quanto tempo dura a bolsa?")  # not at the start
    assert seeks_figure("Quando começam as inscrições?")
    assert seeks_figure("Qual é a última versão do Moodle?")  # one word between article and noun
    assert seeks_figure("A partir de que horário o servidor desliga?")
    assert seeks_figure("What is the maximum file size?")
    assert not seeks_figure("Quais ferramentas de texto usam expressões regulares estendidas?")
    assert not seeks_figure("Quais são as partes de um valor de locale?")  # "quais", not "qual … valor"
    assert not seeks_figure("Como crio a imagem do QEMU?")
    assert not seeks_figure("Preciso ser root para mudar a data do sistema?")


def test_a_reply_that_points_at_its_sources_instead_of_answering_is_a_deferral():
    question = "Como crio a imagem do QEMU para os testes?"
    assert is_deferral("Para criar a imagem do QEMU para os testes, siga os passos descritos no contexto fornecido.",
                       question)  # the question's verb in another form is not an answer
    assert is_deferral("Sim, conforme o contexto, a imagem do QEMU serve para os testes [1].",
                       "A imagem do QEMU serve para os testes?")
    assert is_deferral("To build it, follow the steps described in the context.", "How do I build the package?")
    # it names a command, or says something of its own: an answer that also mentions its sources
    assert not is_deferral("Rode autopkgtest-buildvm-ubuntu-cloud, como descrito no contexto [1].", question)
    assert not is_deferral("A taxa pode variar dependendo do contexto e do nível de segurança.", "Quanto custa um PPA?")
    assert not is_deferral("Para criar a imagem do QEMU para os testes, siga os passos.", question)  # an echo, not this

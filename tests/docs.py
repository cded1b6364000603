"""Test documents made on the fly: the project ships or makes its own data.

Plain functions (no pytest): each writes one file into ``folder`` and returns its path.
The text lives here as Python strings, so tests can compare what ingestion returns with
what was written. :data:`FACTS` says which page of the Portuguese PDF holds which fact
(question -> expected page, answer and a verbatim evidence string), for retrieval and
RAG tests.

Run ``python tests/docs.py examples/`` to regenerate the sample documents shipped in
``examples/`` (``edital-exemplo.pdf`` and ``edital-exemplo.txt``).

Documents:
    make_pt_pdf          3-page Brazilian Portuguese PDF (fpdf2, core font), accents on every
                         page, one forced line-end hyphenation ("inscri-" / "ções")
    make_pt_txt          the same text as one UTF-8 .txt
    make_latin1_txt      Portuguese, Latin-1 (ISO-8859-1)
    make_cp1252_txt      Portuguese with “smart quotes”, — dash and … (cp1252 only)
    make_utf8_bom_txt    Portuguese, UTF-8 with a byte-order mark
    make_en_txt          English, UTF-8
    make_corrupt_pdf     garbage bytes behind a %PDF- header, named .pdf
    make_encrypted_pdf   the Portuguese PDF encrypted with user password ``ENCRYPTED_PASSWORD``
    make_scanned_pdf     a PDF with drawn shapes only: no text layer
    make_empty_txt       0 bytes
    make_binary_named_txt  a PNG image named .txt (type is decided by content)
    make_docx_named_pdf  a ZIP (like .docx) named .pdf
    make_pdf_bomb        a ~4 MB one-page PDF whose content stream inflates to ~4 GiB (not in make_all)
    make_manual_pdf      5-page manual laid out like a printed book: running header
                         ``MANUAL_HEADER`` and a printed page number footer (``i``, ``1 / 4``...)
                         on every page, a table of contents with dot leaders (page 1), a page
                         with nothing but header and footer (page 3), body text (pages 2, 4, 5)
"""

from __future__ import annotations

import os
import sys
import zlib
import struct
from datetime import datetime, timezone
from pathlib import Path

# --- content ---------------------------------------------------------------------

#: Pages of the Portuguese notice, paragraphs separated by a blank line. ``HYPHEN_BREAK``
#: marks the one place where the PDF breaks a word at the end of a line with a hyphen.
HYPHEN_BREAK = "-\n"

PT_TITLE = "Edital nº 12/2026 da Prefeitura Municipal de São João das Águas"

PT_PAGES: list[str] = [
    # page 1: object, dates, values
    (
        "EDITAL Nº 12/2026 DA PREFEITURA MUNICIPAL DE SÃO JOÃO DAS ÁGUAS\n\n"
        "Chamada pública para seleção de projetos culturais de associações e coletivos "
        "do município, com recursos do Fundo Municipal de Cultura. A Secretaria de "
        "Educação e Cultura torna público que estão abertas as inscri" + HYPHEN_BREAK
        + "ções para a seleção de propostas de ação cultural comunitária.\n\n"
        "O valor total destinado a esta chamada é de R$ 250.000,00 (duzentos e cinquenta "
        "mil reais). Cada projeto aprovado receberá no máximo R$ 25.000,00, em duas "
        "parcelas: 60% na assinatura do termo e 40% após a prestação de contas parcial.\n\n"
        "As inscrições ficam abertas de 2 de março de 2026 até as 17h de 31 de março de "
        "2026, exclusivamente pelo portal da prefeitura. Serão selecionados até dez "
        "projetos, e a execução de cada um não poderá ultrapassar oito meses."
    ),
    # page 2: documents required, deadlines for appeals
    (
        "DOCUMENTOS EXIGIDOS\n\n"
        "No ato da inscrição, a associação proponente deverá apresentar: cópia do "
        "estatuto social registrado em cartório; ata de eleição da diretoria atual; "
        "comprovante de inscrição no CNPJ; certidão negativa de débitos municipais; "
        "e declaração de que não emprega menores de dezesseis anos.\n\n"
        "O responsável legal também deverá enviar cópia do RG e do CPF, além de um "
        "comprovante de residência no município emitido há no máximo noventa dias. "
        "Propostas sem algum destes documentos serão desclassificadas na fase de "
        "habilitação, sem análise de mérito.\n\n"
        "O resultado preliminar será publicado em 20 de abril de 2026. Os recursos "
        "contra o resultado preliminar poderão ser apresentados em até cinco dias "
        "úteis após a publicação, por meio de formulário próprio, à Comissão de "
        "Avaliação."
    ),
    # page 3: contact, final result
    (
        "CONTATO E DISPOSIÇÕES FINAIS\n\n"
        "Dúvidas sobre este edital devem ser enviadas ao e-mail "
        "cultura@saojoaodasaguas.example.gov.br ou tratadas pelo telefone (31) "
        "3555-0142, de segunda a sexta-feira, das 9h às 16h. O atendimento presencial "
        "acontece na Casa da Cultura, na Rua das Acácias, 480, Centro.\n\n"
        "O resultado final será homologado pelo prefeito e publicado no Diário Oficial "
        "do Município em 15 de maio de 2026. A assinatura dos termos de fomento "
        "ocorrerá em até trinta dias após a homologação.\n\n"
        "Os casos omissos serão resolvidos pela Comissão de Avaliação, ouvida a "
        "Procuradoria-Geral do Município. São João das Águas, 10 de fevereiro de 2026."
    ),
]

#: question -> {"page": page number (from 1), "answer": short answer, "evidence": text
#: found verbatim in the ingested page}. Language: pt. Source: :data:`PT_PAGES`.
FACTS: dict[str, dict] = {
    "Qual é o valor total destinado ao edital?": {
        "page": 1, "answer": "R$ 250.000,00", "evidence": "R$ 250.000,00",
    },
    "Até quando ficam abertas as inscrições?": {
        "page": 1, "answer": "até as 17h de 31 de março de 2026", "evidence": "31 de março de 2026",
    },
    "Qual é o valor máximo por projeto aprovado?": {
        "page": 1, "answer": "R$ 25.000,00", "evidence": "R$ 25.000,00",
    },
    "Quais documentos a associação deve apresentar na inscrição?": {
        "page": 2,
        "answer": (
            "estatuto social registrado, ata de eleição da diretoria, CNPJ, certidão negativa "
            "de débitos municipais e declaração sobre menores"
        ),
        "evidence": "certidão negativa de débitos municipais",
    },
    "Qual é o prazo para apresentar recurso contra o resultado preliminar?": {
        "page": 2, "answer": "até cinco dias úteis após a publicação", "evidence": "cinco dias",
    },
    "Qual é o e-mail para dúvidas sobre o edital?": {
        "page": 3, "answer": "cultura@saojoaodasaguas.example.gov.br",
        "evidence": "cultura@saojoaodasaguas.example.gov.br",
    },
    "Quando será publicado o resultado final?": {
        "page": 3, "answer": "15 de maio de 2026", "evidence": "15 de maio de 2026",
    },
}

#: The words that the PDF breaks with a line-end hyphen, as they must read after ingestion.
HYPHENATED_WORDS = ["inscrições"]


def pt_page_clean(number: int) -> str:
    """Page ``number`` (from 1) of :data:`PT_PAGES` as ingestion should read it (hyphen repaired)."""
    return PT_PAGES[number - 1].replace(HYPHEN_BREAK, "")


#: Portuguese prose rich in accents, for the .txt encodings (all within Latin-1).
PT_TEXT = (
    "Ação e reação: lições de programação para iniciantes\n\n"
    "Esta seção explica a configuração básica do sistema. É necessário atenção às "
    "permissões: o usuário comum não altera arquivos do diretório raiz. Você também "
    "verá como a memória é usada e por que a interrupção de um processo é útil.\n\n"
    "Além disso, há exercícios práticos no fim de cada capítulo. À medida que avança, "
    "o leitor aprende funções, exceções e operações com números; não há pressa, e a "
    "revisão é opcional.\n\n"
    "Vovô comeu pão com açúcar e maçã. A criança pôs o chapéu azul; o pássaro voou "
    "sobre o coração da cidade. Ônibus, caminhões e aviões: três meios de locomoção."
)

#: Portuguese with characters that exist in cp1252 but not in Latin-1: “ ” ‘ ’ — – …
CP1252_TEXT = (
    "Relatório “Gestão de Águas” — versão preliminar\n\n"
    "O coordenador disse: “a participação da população é essencial”. Também citou o "
    "‘plano diretor’ – aprovado em 2024 – e as metas de conservação…\n\n"
    "Informações adicionais: ações, licitações e prestação de contas serão "
    "divulgadas no portal. Não há custo para participar."
)

#: English sample (UTF-8).
EN_TEXT = (
    "Building permit guide\n\n"
    "A building permit is required before you start construction of a new house, an "
    "extension, or a change of use. The municipality checks that the plans follow the "
    "detailed development plan and the national building regulations.\n\n"
    "Apply at least ten weeks before the planned start. The application must include "
    "site plans, floor plans, elevations and a control plan signed by a certified "
    "quality manager. The fee depends on the size of the project.\n\n"
    "After approval you receive a start notice. Work may begin only after the "
    "technical consultation, and the final notice is issued once the inspection is done."
)

ENCRYPTED_PASSWORD = "segredo"

#: The manual (:func:`make_manual_pdf`): the running header printed at the top of every page.
MANUAL_HEADER = "Manual do Sistema"
#: The footer printed at the bottom of each page (page 1 is front matter, numbered in roman).
MANUAL_FOOTERS = ["i", "1 / 4", "2 / 4", "3 / 4", "4 / 4"]
#: Page 1: a table of contents in three dot-leader styles (dots, spaced dots, middle dots).
MANUAL_TOC = [
    "Sumário",
    "1 Introdução ........................................ 1",
    "2 Instalação do servidor . . . . . . . . . . . . . . . . . 1",
    "2.1 Requisitos de hardware . . . . . . . . . . . . . . . . 1",
    "3 Figuras do painel · · · · · · · · · · · · · · · · · · · 2",
    "4 Contas de usuário ................................. 3",
    "5 Cópias de segurança . . . . . . . . . . . . . . . . . . 4",
]
#: Page number (from 1) -> body text, paragraphs separated by blank lines; page 3 has none.
MANUAL_BODY: dict[int, str] = {
    2: (
        "1 Introdução\n\n"
        "Este manual descreve a instalação e a administração do sistema de gestão escolar. "
        "O servidor principal guarda as contas de usuário, os arquivos pessoais e as "
        "cópias de segurança de todas as estações da rede.\n\n"
        "2 Instalação do servidor\n\n"
        "A instalação leva cerca de 40 minutos e exige uma conexão com a Internet. Escolha "
        "o perfil Servidor Principal no menu inicial e informe o nome do domínio da escola."
    ),
    4: (
        "4 Contas de usuário\n\n"
        "Cada aluno recebe uma conta com cota de 2 GB no servidor. As contas são criadas "
        "pelo painel de administração, em lote, a partir de uma planilha com nome, turma e "
        "data de nascimento.\n\n"
        "A senha inicial vale por 7 dias; no primeiro acesso o sistema pede uma nova senha "
        "com pelo menos 10 caracteres."
    ),
    5: (
        "5 Cópias de segurança\n\n"
        "As cópias de segurança rodam todas as noites às 2h e guardam os últimos 30 dias. "
        "Para restaurar um arquivo apagado, abra o painel, escolha a data da cópia e "
        "marque os arquivos que devem voltar.\n\n"
        "Guarde uma cópia mensal fora da escola, em um disco externo trancado."
    ),
}
#: The page that holds only the running header and footer (a screenshot page in a real manual).
MANUAL_EMPTY_PAGE = 3

_FIXED_DATE = datetime(2026, 2, 10, 12, 0, 0, tzinfo=timezone.utc)


# --- makers ----------------------------------------------------------------------


def _fpdf_pages(pages: list[str], title: str = PT_TITLE):
    """An FPDF object with one page per string; paragraphs split on blank lines."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)  # same bytes on every run: same sha256, same doc_id
    pdf.set_title(title)
    pdf.set_author("Oráculo test documents")
    pdf.set_auto_page_break(auto=False)
    for text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for i, para in enumerate(text.split("\n\n")):
            if i:
                pdf.ln(4)
            # multi_cell wraps long lines itself and honours the explicit "\n" of HYPHEN_BREAK.
            pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
    return pdf


def make_manual_pdf(folder: str | os.PathLike, name: str = "manual-do-sistema.pdf") -> Path:
    """Write the 5-page manual: :data:`MANUAL_TOC` on page 1, :data:`MANUAL_BODY` on pages 2, 4
    and 5, page :data:`MANUAL_EMPTY_PAGE` with no body; :data:`MANUAL_HEADER` at the top and
    :data:`MANUAL_FOOTERS` at the bottom of every page (fpdf2's header/footer hooks).
    """
    from fpdf import FPDF

    class Manual(FPDF):
        def header(self):
            self.set_font("Helvetica", style="I", size=9)
            self.cell(0, 8, MANUAL_HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, MANUAL_FOOTERS[self.page_no() - 1], align="C")

    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = Manual(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title("Manual do Sistema")
    pdf.set_auto_page_break(auto=False)
    for number in range(1, len(MANUAL_FOOTERS) + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        if number == 1:
            for line in MANUAL_TOC:
                pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        for i, para in enumerate(MANUAL_BODY.get(number, "").split("\n\n") if number in MANUAL_BODY else []):
            if i:
                pdf.ln(4)
            pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_pt_pdf(folder: str | os.PathLike, name: str = "edital-12-2026.pdf") -> Path:
    """Write the 3-page Portuguese notice (:data:`PT_PAGES`) as a PDF with a text layer."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    _fpdf_pages(PT_PAGES).output(str(path))
    return path


def make_pt_txt(folder: str | os.PathLike, name: str = "edital-12-2026.txt") -> Path:
    """Write the Portuguese notice as one UTF-8 text file (pages joined, hyphen repaired)."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(pt_page_clean(n) for n in range(1, len(PT_PAGES) + 1)) + "\n"
    path.write_bytes(text.encode("utf-8"))
    return path


def make_latin1_txt(folder: str | os.PathLike, name: str = "licoes-latin1.txt") -> Path:
    """Write :data:`PT_TEXT` encoded as Latin-1 (ISO-8859-1), with Windows line ends."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PT_TEXT.replace("\n", "\r\n").encode("latin-1"))
    return path


def make_cp1252_txt(folder: str | os.PathLike, name: str = "relatorio-cp1252.txt") -> Path:
    """Write :data:`CP1252_TEXT` encoded as cp1252 (smart quotes, dashes, ellipsis)."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CP1252_TEXT.encode("cp1252"))
    return path


def make_utf8_bom_txt(folder: str | os.PathLike, name: str = "licoes-utf8-bom.txt") -> Path:
    """Write :data:`PT_TEXT` as UTF-8 with a byte-order mark."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PT_TEXT.encode("utf-8-sig"))
    return path


def make_utf8_txt(folder: str | os.PathLike, name: str = "licoes-utf8.txt") -> Path:
    """Write :data:`PT_TEXT` as UTF-8 without BOM."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PT_TEXT.encode("utf-8"))
    return path


def make_en_txt(folder: str | os.PathLike, name: str = "building-permit.txt") -> Path:
    """Write :data:`EN_TEXT` as UTF-8."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(EN_TEXT.encode("utf-8"))
    return path


def make_corrupt_pdf(folder: str | os.PathLike, name: str = "corrompido.pdf") -> Path:
    """Write a file that starts like a PDF but is garbage after the header."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    garbage = bytes((i * 37 + 11) % 256 for i in range(2048))
    path.write_bytes(b"%PDF-1.4\n" + garbage)
    return path


def make_encrypted_pdf(folder: str | os.PathLike, name: str = "protegido.pdf") -> Path:
    """Write the Portuguese PDF encrypted (pypdf, RC4) with user password :data:`ENCRYPTED_PASSWORD`."""
    from pypdf import PdfReader, PdfWriter

    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = Path(folder) / (".plain-" + name)
    make_pt_pdf(folder, plain.name)
    writer = PdfWriter(clone_from=PdfReader(str(plain)))
    writer.encrypt(user_password=ENCRYPTED_PASSWORD, owner_password="dono-" + ENCRYPTED_PASSWORD)
    with open(path, "wb") as f:
        writer.write(f)
    plain.unlink()
    return path


def make_scanned_pdf(folder: str | os.PathLike, name: str = "digitalizado.pdf", pages: int = 2) -> Path:
    """Write a PDF whose pages hold only drawn shapes (like a scan): no text layer."""
    from fpdf import FPDF

    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    for p in range(pages):
        pdf.add_page()
        pdf.set_fill_color(200, 200, 200)
        for row in range(20):
            # grey bars where lines of text would be in a scanned page
            pdf.rect(20, 30 + row * 10, 170 - (row * 7 + p * 13) % 60, 4, style="F")
        pdf.ellipse(150, 260, 30, 15, style="D")
    pdf.output(str(path))
    return path


def make_empty_txt(folder: str | os.PathLike, name: str = "vazio.txt") -> Path:
    """Write a 0-byte .txt file."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def _tiny_png() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_binary_named_txt(folder: str | os.PathLike, name: str = "foto.txt") -> Path:
    """Write a PNG image under a .txt name: unsupported, whatever the extension says."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_tiny_png())
    return path


def make_docx_named_pdf(folder: str | os.PathLike, name: str = "documento.pdf") -> Path:
    """Write a ZIP archive (what a .docx is) under a .pdf name."""
    import zipfile

    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>texto</w:document>")
    return path


def _deflate_zeros(n_mib: int) -> bytes:
    """A zlib stream that inflates to ``n_mib`` MiB of zero bytes, made in milliseconds.

    Each MiB is compressed once and flushed with Z_FULL_FLUSH (no back-references across
    it), so the same ~1 KB block can be repeated; the Adler-32 of n zero bytes is
    ``(n mod 65521) << 16 | 1``.
    """
    chunk = bytes(1 << 20)
    z = zlib.compressobj(9)
    first = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    repeat = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    total = n_mib << 20
    return first + repeat * (n_mib - 1) + b"\x03\x00" + struct.pack(">I", ((total % 65521) << 16) | 1)


def make_pdf_bomb(folder: str | os.PathLike, name: str = "bomba.pdf", inflated_mib: int = 4000) -> Path:
    """Write a one-page PDF whose content stream (/FlateDecode) inflates ~1000:1: with the
    default ``inflated_mib`` a ~4 MB file that asks a reader for ~4 GiB (a decompression bomb)."""
    stream = _deflate_zeros(inflated_mib)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def make_all(folder: str | os.PathLike) -> dict[str, Path]:
    """Every document above in ``folder``: {maker name without 'make_': path}."""
    makers = [
        make_pt_pdf, make_pt_txt, make_latin1_txt, make_cp1252_txt, make_utf8_bom_txt,
        make_utf8_txt, make_en_txt, make_corrupt_pdf, make_encrypted_pdf, make_scanned_pdf,
        make_empty_txt, make_binary_named_txt, make_docx_named_pdf, make_manual_pdf,
    ]
    return {m.__name__[len("make_"):]: m(folder) for m in makers}


def main(argv: list[str] | None = None) -> int:
    """``python tests/docs.py FOLDER``: write the shipped samples edital-exemplo.pdf/.txt."""
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "examples")
    pdf = make_pt_pdf(folder, "edital-exemplo.pdf")
    txt = make_pt_txt(folder, "edital-exemplo.txt")
    print(pdf)
    print(txt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

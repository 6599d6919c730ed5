"""``cqdt rubric preview``: a rubric walked in the terminal through the bot's own dialogue, then scored."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli, main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"
# Five questions: cbcc_tong, may_tinh (≤ cbcc_tong), co_ttdl (yes/no, n/a), dvc_tyle (%), cong_ttdt (choice, n/a)
READINESS = FIXTURES / "tth_readiness.yaml"
INVALID = FIXTURES / "invalid" / "bands_gap.yaml"

EVIDENCE_RUBRIC = """
id: test-tep
version: 1
family: test-tep
title: Bộ tiêu chí có tệp
level: xa
level_name: Cấp xã
source: tests
max: 10
groups:
  - code: "1"
    title: Văn bản
    max: 10
    children:
      - code: "1.1"
        title: Quy chế an toàn thông tin
        max: 10
        questions:
          - {id: co_quy_che, type: yes_no, text: "Có quy chế không?", evidence: required}
          - {id: quy_che_tep, type: file, text: Tệp quy chế đã ký, required: false}
        rule: {type: yes_no, question: co_quy_che}
"""


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for name in ("CQDT_DATABASE_URL", "CQDT_TIMEZONE", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def preview(rubric, *lines: str) -> str:
    """The preview's output for these typed lines, then the end of input."""
    result = CliRunner().invoke(cli, ["rubric", "preview", str(rubric)], input="".join(f"{x}\n" for x in lines))
    assert result.exit_code == 0, result.output
    return result.stdout


def score_table(output: str) -> str:
    """The score as ``cqdt rubric score`` prints it, from the rubric's title line to «Tổng điểm»."""
    start = output.index("Điểm các câu trả lời này sẽ cho:")
    return output[start:].split("\n", 2)[2].strip()


def rubric_score(rubric, answers: str, tmp_path) -> str:
    path = tmp_path / "tra-loi.yaml"
    path.write_text(answers, encoding="utf-8")
    result = CliRunner().invoke(cli, ["rubric", "score", str(rubric), str(path)])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_a_whole_walk_ends_with_the_score_rubric_score_gives(tmp_path):
    out = preview(READINESS, "1.234", "1.200", "3", "88,5", "2")
    assert "Thông tin chung · Câu 1 · 1/5" in out and "Nhóm 2 › 2.2 Cổng thông tin · Câu 5 · 5/5" in out
    assert "✓ Câu 2: 1.200" in out and "✓ Câu 3: Không áp dụng" in out and "✓ Câu 4: 88,5 %" in out
    assert "  [1] Đầy đủ\n  [2] Một phần\n  [3] Không áp dụng\n  [4] ◀ Câu trước" in out
    assert "Quý cơ quan đã trả lời 5/5 câu" in out
    assert "Kết thúc xem thử: đã trả lời 5/5 câu.\n" in out
    table = score_table(out)
    # group 1: 1.200 ÷ 1.234 × 48 = 46,68 of 48 applicable (2 excluded) → 48,63; group 2: 81,42 + 4 = 85,42
    assert "1         50,00      2,00    48,00    46,68   97,25 %    48,63  I" in table
    assert "2        100,00      0,00   100,00    85,42   85,42 %    85,42  II" in table
    assert table.endswith("Tổng điểm: 134,05/150 (89,37 %)")
    answers = "cbcc_tong: 1234\nmay_tinh: 1200\nco_ttdl: na\ndvc_tyle: 88.5\ncong_ttdt: mot_phan\n"
    assert table == rubric_score(READINESS, answers, tmp_path)


def answered_to(out: str, line: str, time: int = 1) -> str:
    """What the preview printed after the author typed ``line`` (the ``time``-th time), up to the next typed line."""
    return out.split(f"› {line}\n")[time].split("\n› ", 1)[0]


def test_typing_mistakes_get_a_refusal_and_the_question_again():
    out = preview(READINESS, "mười hai", "120", "130", "118", "có", "9", "1")
    bad_number = answered_to(out, "mười hai")
    assert bad_number.startswith("Xin nhập một số nguyên, ví dụ 1.234.\n")
    assert "Thông tin chung · Câu 1 · 1/5" in bad_number and "Câu trả lời hiện tại" not in bad_number
    too_many = answered_to(out, "130")
    assert too_many.startswith("Giá trị không được lớn hơn 120 (số đã khai ở câu trước).\n")
    assert "Nhóm 1 › 1.1 Tỷ lệ máy tính · Câu 2 · 2/5" in too_many
    typed_for_a_button = answered_to(out, "có")
    assert typed_for_a_button.startswith("Xin Đồng chí chọn một trong các nút bên dưới câu hỏi.\n")
    no_such_button = answered_to(out, "9")
    assert no_such_button.startswith("Không có nút số 9; xin gõ một số từ 1 đến 4.\n")
    for again in (typed_for_a_button, no_such_button):
        assert "Nhóm 1 › 1.2 Trung tâm dữ liệu · Câu 3 · 3/5" in again and "  [1] Có   [2] Không" in again
    assert "✓ Câu 1: 120" in out and "✓ Câu 2: 118" in out and "✓ Câu 3: Có" in out
    assert "Kết thúc xem thử: đã trả lời 3/5 câu; 2 câu bắt buộc chưa trả lời được tính 0 điểm." in out


def test_end_of_input_mid_way_prints_the_partial_score():
    out = preview(READINESS, "120", "118")
    assert out.rstrip().endswith("Tổng điểm: 47,20/150 (31,47 %)")
    assert "Kết thúc xem thử: đã trả lời 2/5 câu; 3 câu bắt buộc chưa trả lời được tính 0 điểm." in out
    assert "1         50,00      0,00    50,00    47,20   94,40 %    47,20  I" in out
    assert "2        100,00      0,00   100,00     0,00    0,00 %     0,00  III" in out


def test_an_empty_line_ends_the_preview_and_later_lines_are_not_read():
    out = preview(READINESS, "120", "", "118")
    assert "› 118" not in out and "✓ Câu 2" not in out
    assert "Kết thúc xem thử: đã trả lời 1/5 câu; 4 câu bắt buộc chưa trả lời được tính 0 điểm." in out


def test_the_dialogue_commands_review_edit_and_submit_with_a_receipt():
    out = preview(READINESS, "120", "118", "1", "88,5", "1", "/xemlai", "1", "100", "/sua 1", "#1", "/nop", "1", "50")
    review = answered_to(out, "/xemlai")
    assert review.startswith("Xem lại (1/3) — Thông tin chung") and "  [1] ✎ 1\n  [2] Nhóm sau ▶" in review
    assert answered_to(out, "1", 3).startswith("Thông tin chung · Câu 1 · 1/5")  # ✎ 1 opens question 1 again
    assert answered_to(out, "100").startswith("Câu 2 đã khai 118")  # the total cannot drop below question 2
    assert "» Giữ nguyên câu trả lời." in answered_to(out, "#1")
    assert "Đồng chí xác nhận nộp bản tự đánh giá của Cơ quan xem thử?" in answered_to(out, "/nop")
    assert "✅ BIÊN NHẬN" in out and "SHA-256" in out
    assert "› 50" not in out  # the receipt ends the preview
    assert "Kết thúc xem thử: đã trả lời 5/5 câu.\n" in out
    assert out.rstrip().endswith("Tổng điểm: 138,62/150 (92,41 %)")


def test_files_are_named_by_a_path_and_evidence_is_sent_with_tep(tmp_path):
    rubric = tmp_path / "co-tep.yaml"
    rubric.write_text(EVIDENCE_RUBRIC, encoding="utf-8")
    scan = tmp_path / "quy-che.pdf"
    scan.write_bytes(b"%PDF-1.4")
    missing = tmp_path / "khong-co.pdf"
    out = preview(rubric, f"/tep {missing}", f"/tep {scan}", "1", "1", str(scan), "/nop", "1")
    assert answered_to(out, f"/tep {missing}").startswith(f"Không đọc được tệp «{missing}»")
    assert answered_to(out, f"/tep {scan}").startswith("📎 Đã nhận minh chứng cho câu 1: tệp «quy-che.pdf».")
    assert "(Gõ đường dẫn tệp, hoặc #số để bấm nút.)" in answered_to(out, "1")
    assert answered_to(out, "1", 2).startswith("Không đọc được tệp «1»")  # on a file question: a path, not a button
    assert "✓ Câu 2: tệp «quy-che.pdf»" in answered_to(out, str(scan))
    assert "✅ BIÊN NHẬN" in out  # the evidence the yes needs was received: submission is allowed
    assert out.rstrip().endswith("Tổng điểm: 10,00/10 (100,00 %)")


def test_an_invalid_rubric_file_is_reported_as_validate_reports_it_and_exits_1(capsys):
    main(["rubric", "validate", str(INVALID)])
    reported = capsys.readouterr().err
    assert reported.startswith(f"Lỗi: {INVALID}: bands[total]:")
    assert main(["rubric", "preview", str(INVALID)]) == 1
    captured = capsys.readouterr()
    assert captured.err == reported and captured.out == ""

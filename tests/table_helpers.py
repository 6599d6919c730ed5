"""Criteria tables built with openpyxl in the shape provinces publish: a title block, a merged header,
STT I / 1 / 1.1 / a, and merged text cells."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HEADER = [
    "STT",
    "Chỉ số",
    "Điểm tối đa",
    "Cách tính điểm",
    "Tài liệu kiểm chứng",
    "Nguồn số liệu",
    "Đơn vị thẩm định",
]


def dti_rows(*, first_group: int = 500) -> list[list]:
    """A DTI-shaped table on 1 000 points: two pillars, a 0-point group, scoring levels "1/2 điểm tối đa"."""
    component = first_group - 400
    return [
        ["I", "NHÓM CHỈ SỐ NỀN TẢNG CHUNG", first_group, None, None, None, None],
        ["1", "Nhận thức số", 100, None, None, None, None],
        [
            "1.1",
            "Người đứng đầu làm Trưởng Ban chỉ đạo chuyển đổi số",
            "40",
            None,
            "Trích dẫn số hiệu, tên văn bản, ngày văn bản, trích yếu đầy đủ",
            "Báo cáo của cơ quan",
            "Sở KH&CN",
        ],
        ["a", "Bí thư hoặc Chủ tịch là Trưởng ban", "Điểm tối đa", None, None, None, None],
        ["b", "Phó Chủ tịch là Trưởng ban", "1/2 điểm tối đa", None, None, None, None],
        ["c", "Chưa thành lập", "0", None, None, None, None],
        [
            "1.2",
            "Tỷ lệ văn bản chỉ đạo về chuyển đổi số",
            "60đ",
            "(a ÷ b) × điểm tối đa",
            "Danh sách văn bản",
            "Hệ thống quản lý văn bản",
            None,
        ],
        [None, "a là số văn bản do người đứng đầu ký", None, None, None, None, None],
        ["2", "Hạ tầng số", component, None, None, None, None],
        ["2.1", "Tỷ lệ CBCC có máy tính", "50,0", "Tỷ lệ × điểm tối đa", "Danh sách máy tính", None, None],
        ["2.2", "Kết nối mạng truyền số liệu chuyên dùng", component - 50, "Có: điểm tối đa", None, None, None],
        ["3", "Thể chế số", 300, None, None, None, None],
        ["3.1", "Ban hành kế hoạch chuyển đổi số", "150", None, "Kế hoạch", None, None],
        ["3.2", "Ban hành quy chế an toàn thông tin", "150", None, "Quy chế", None, None],
        ["4", "Đô thị thông minh", "không tính điểm", None, None, None, None],
        ["4.1", "Có trung tâm điều hành thông minh", "0", None, None, "Báo cáo", None],
        ["II", "NHÓM CHỈ SỐ HOẠT ĐỘNG", 500, None, None, None, None],
        ["5", "Hoạt động chính quyền số", 500, None, None, None, None],
        ["5.1", "Tỷ lệ hồ sơ TTHC xử lý trực tuyến", "250", None, "Số liệu Cổng dịch vụ công", None, None],
        ["5.2", "Tỷ lệ văn bản đi ký số", "250", None, None, "Hệ thống quản lý văn bản", None],
        [None, "Tổng cộng", "1.000", None, None, None, None],
    ]


def write_table(path: Path, rows: list[list], *, sheet: str = "Sheet1", two_row_header: bool = True) -> Path:
    """A workbook with a title block (rows 1–3), the header (merged over rows 4–5 when ``two_row_header``),
    and ``rows``; the verifying unit merged down over the whole first group."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(["UBND TỈNH QUẢNG NINH"])
    ws.merge_cells("A1:G1")
    ws.append(["BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP SỞ, BAN, NGÀNH"])
    ws.merge_cells("A2:G2")
    ws.append(["(Kèm theo Quyết định số 123/QĐ-UBND ngày 15/01/2026 của UBND tỉnh)"])
    ws.merge_cells("A3:G3")
    if two_row_header:
        ws.append(["STT", "Chỉ số", "Điểm", *HEADER[3:]])
        ws.append([None, None, "Tối đa", None, None, None, None])
        for col in "ABDEFG":
            ws.merge_cells(f"{col}4:{col}5")
    else:
        ws.append(HEADER)
    ws.append(["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"])
    first = ws.max_row + 1
    for row in rows:
        ws.append(row)
    ws.merge_cells(f"G{first + 2}:G{first + 6}")  # "Sở KH&CN" over 1.1 … 1.2
    workbook.save(path)
    return path


def write_word_table(path: Path, rows: list[list]) -> Path:
    """The same table in a Word document: title paragraphs, then the table, its verifying unit merged down."""
    from docx import Document

    document = Document()
    document.add_paragraph("UBND TỈNH QUẢNG NINH")
    document.add_paragraph("BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP SỞ, BAN, NGÀNH")
    document.add_paragraph("(Kèm theo Quyết định số 123/QĐ-UBND ngày 15/01/2026 của UBND tỉnh)")
    table = document.add_table(rows=len(rows) + 1, cols=len(HEADER))
    for col, text in enumerate(HEADER):
        table.cell(0, col).text = text
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is not None:
                table.cell(r, col).text = str(value)
    merged = table.cell(3, 6).merge(table.cell(7, 6))  # "Sở KH&CN" over 1.1 … 1.2
    merged.text = "Sở KH&CN"
    document.save(path)
    return path

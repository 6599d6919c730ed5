"""``cqdt agencies``: import a campaign's agencies from the list an office keeps (xlsx or CSV), and write
the empty list to fill in."""

from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path

import click

from bot.cli.context import CliContext, pass_cli
from common.errors import Refused
from conversations import agency_lists
from storage import campaigns
from storage.agency_import import campaign_level_names, import_rows


@click.group("agencies")
def agencies_group() -> None:
    """Đơn vị tham gia đánh giá."""


@agencies_group.command("import")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="TỆP")
@click.option("--sheet", metavar="TÊN", help="Trang tính cần đọc trong tệp xlsx (mặc định: trang đầu tiên).")
@click.option(
    "--contacts-from",
    "contacts_from",
    type=int,
    metavar="ID",
    help="Lấy đầu mối (họ tên, điện thoại, thư điện tử) còn trống từ đợt đánh giá ID, theo mã đơn vị.",
)
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def agencies_import(
    cli: CliContext, campaign_id: int, file: Path, sheet: str | None, contacts_from: int | None, as_json: bool
) -> None:
    """Nhập danh sách đơn vị từ tệp Excel (.xlsx) hoặc CSV (dấu phẩy hay chấm phẩy; UTF-8).

    Các cột nhận theo tên, tiếng Việt hoặc tiếng Anh: Mã đơn vị (code), Tên đơn vị (name), Cấp (level),
    Mã đơn vị cấp trên (parent_code), Họ tên đầu mối (contact_name), Điện thoại (contact_phone),
    Thư điện tử (contact_email). Tất cả hoặc không: một dòng sai thì không nhập gì và báo dòng hay ô bị
    lỗi. Nhập lại cùng tệp không thay đổi gì.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise Refused("input_unreadable", path=str(file), reason=exc.strerror or exc) from None
    listing = agency_lists.read(data, file.name, sheet=sheet)
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        result = import_rows(session, campaign, listing.rows, headers=listing.headers, contacts_from=contacts_from)
    data = {k: v for k, v in asdict(result).items() if k not in ("codes", "filled")}
    if contacts_from is not None:
        data["filled"] = result.filled
    cli.emit("agencies_import", data, as_json, result=result, campaign_id=campaign_id, contacts_from=contacts_from)


@agencies_group.command("template")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    metavar="TỆP",
    help="Tệp cần ghi: .xlsx (Excel) hoặc .csv (UTF-8).",
)
@click.option("--campaign", "campaign_id", type=int, metavar="ID", help="Thêm danh sách chọn các cấp của đợt này.")
@pass_cli
def agencies_template(cli: CliContext, output: Path, campaign_id: int | None) -> None:
    """Ghi danh sách đơn vị trống để điền rồi nhập bằng «cqdt agencies import»."""
    levels: dict[str, str | None] = {}
    if campaign_id is not None:
        with cli.db.session() as session:
            levels = campaign_level_names(session, campaign_id)
    names = [name or code for code, name in levels.items()]
    if output.suffix.lower() == ".csv":
        content = agency_lists.template_csv()
    else:
        stream = io.BytesIO()
        agency_lists.write_template_xlsx(stream, names)
        content = stream.getvalue()
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    csv_file = output.suffix.lower() == ".csv"
    cli.emit("agencies_template", {"path": str(output), "levels": names}, False, path=output, levels=names,
             csv_file=csv_file)  # fmt: skip


COMMANDS = [agencies_group]

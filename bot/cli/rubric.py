"""``cqdt rubric``: list, show, validate and try out rubric files."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.context import CliContext, pass_cli
from bot.cli.preview import run_preview
from bot.texts import phrase, render
from common.errors import Refused
from conversations.exports import group_dict, score_dict
from rubrics.answer_file import load_answers
from rubrics.bundled import bundled
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.scoring import AgencyInput, Scorer
from rubrics.table_import import import_table, load_source
from rubrics.table_template import write_template
from storage.rubric_store import resolve


def rubric_summary(rubric: CompiledRubric) -> dict:
    r = rubric.rubric
    return {
        "id": r.id,
        "version": r.version,
        "family": r.family,
        "level": r.level,
        "level_name": r.level_name,
        "title": r.title,
        "source": r.source,
        "sample": r.sample,
        "max": r.max,
        "questions": len(rubric.steps),
        "indicators": len(rubric.indicators),
        "groups": [{"code": g.code, "title": g.title, "max": g.max} for g in r.groups],
        "content_hash": rubric.content_hash,
    }


def item_tree(item) -> dict:
    node = {"code": item.code, "title": item.title, "max": item.max, "questions": [q.id for q in item.questions]}
    if item.rule is not None:
        node["rule"] = item.rule.type
        node["sample"] = item.sample
    else:
        node["children"] = [item_tree(child) for child in item.children]
    return node


@click.group("rubric")
def rubric_group() -> None:
    """Bộ tiêu chí: xem, kiểm tra, chấm thử."""


@rubric_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def rubric_list(cli: CliContext, as_json: bool) -> None:
    """Liệt kê các bộ tiêu chí kèm theo cqdt."""
    rubrics = [rubric_summary(r) for r in bundled().values()]
    cli.emit("rubric_list", rubrics, as_json, rubrics=rubrics)


@rubric_group.command("show")
@click.argument("rubric_id", metavar="ID_HOẶC_TỆP")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def rubric_show(cli: CliContext, rubric_id: str, as_json: bool) -> None:
    """Cấu trúc một bộ tiêu chí: nhóm, chỉ tiêu, điểm tối đa, số câu hỏi."""
    rubric = resolve(rubric_id)
    data = {
        **rubric_summary(rubric),
        "tree": [item_tree(g) for g in rubric.rubric.groups],
        "bands": [s.model_dump(mode="json", by_alias=True) for s in rubric.rubric.bands],
    }
    cli.emit("rubric_show", data, as_json, rubric=rubric)


@rubric_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="TỆP...")
@pass_cli
def rubric_validate(cli: CliContext, files: tuple[Path, ...]) -> None:
    """Kiểm tra một hay nhiều tệp bộ tiêu chí; mỗi lỗi là một dòng nêu tệp, mã mục và lỗi."""
    failed = 0
    for path in files:
        try:
            rubric = load_source(path)
        except RubricError as exc:
            failed += 1
            click.echo(phrase("error", "error", message=exc.message), err=True)
            continue
        click.echo(render("rubric_valid", lang="cli", path=path, rubric=rubric))
    if failed:
        raise click.exceptions.Exit(1)


@rubric_group.command("score")
@click.argument("rubric_id", metavar="BỘ_TIÊU_CHÍ")
@click.argument("answers_file", type=click.Path(dir_okay=False, path_type=Path), metavar="CÂU_TRẢ_LỜI.yaml")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def rubric_score(cli: CliContext, rubric_id: str, answers_file: Path, as_json: bool) -> None:
    """Chấm điểm một bộ câu trả lời (YAML «mã câu hỏi: giá trị», «na» = không áp dụng)."""
    rubric = resolve(rubric_id)
    try:
        text = answers_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(
            "input_unreadable", path=str(answers_file), reason=getattr(exc, "strerror", None) or exc
        ) from None
    answers = load_answers(rubric, text, str(answers_file))
    score = Scorer(rubric).score_cohort([AgencyInput("answers", answers)])[0]
    data = {"rubric": rubric.id, **score_dict(score)}
    cli.emit(
        "rubric_score", data, as_json, rubric=rubric, score=score, groups=[group_dict(score, g) for g in score.groups]
    )


@rubric_group.command("preview")
@click.argument("rubric_id", metavar="ID_HOẶC_TỆP")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Ngôn ngữ Telegram của cán bộ đầu mối; «en» để xem các trường *_en.",
)
@pass_cli
def rubric_preview(cli: CliContext, rubric_id: str, lang: str) -> None:
    """Trả lời thử bộ tiêu chí như cán bộ đầu mối, rồi xem điểm các câu trả lời sẽ cho.

    Đọc từng dòng từ đầu vào chuẩn (có thể dẫn tệp vào); dòng trống hoặc hết đầu vào thì
    kết thúc. Dùng một cơ sở dữ liệu tạm, không đụng đến --database-url.
    """
    run_preview(resolve(rubric_id), lang=lang, zone=cli.timezone, clock=cli.now)


@rubric_group.command("import")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path), metavar="BẢNG.xlsx|.docx")
@click.option(
    "--sheet",
    metavar="TÊN_TRANG",
    help='Trang chứa bảng, hoặc "Bảng 2" trong tệp Word (mặc định: trang, bảng đầu tiên có dòng tiêu đề).',
)
@click.option(
    "--level",
    metavar="CẤP",
    help="Mã cấp của bộ tiêu chí: so, huyen, xa, phong, tinh (mặc định: theo tên bảng, như «… CẤP XÃ»; không thì so).",
)
@click.option("--id", "rubric_id", metavar="MÃ", help="Mã bộ tiêu chí (mặc định: theo tên tệp).")
@click.option("--sample", is_flag=True, help="Đánh dấu bộ và mọi chỉ số là mẫu (sample: true).")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="BỘ_TIÊU_CHÍ.yaml",
    help="Tệp YAML được ghi ra.",
)
@pass_cli
def rubric_import(cli: CliContext, table: Path, sheet, level, rubric_id, sample: bool, output: Path) -> None:
    """Đọc bảng tiêu chí Excel hoặc Word (STT · chỉ số · điểm tối đa · cách tính điểm · tài liệu kiểm chứng · nguồn số
    liệu · đơn vị thẩm định) thành một bộ tiêu chí YAML; không ghi gì nếu bảng có lỗi."""
    imported = import_table(table, sheet=sheet, level=level, rubric_id=rubric_id, sample=sample)
    try:
        output.write_text(imported.yaml_text, encoding="utf-8")
    except OSError as exc:
        raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    click.echo(render("rubric_imported", lang="cli", table=table, output=output, imported=imported))


@rubric_group.command("template")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="TỆP.xlsx",
    help="Tệp Excel được ghi ra.",
)
@pass_cli
def rubric_template(cli: CliContext, output: Path) -> None:
    """Ghi một bảng tiêu chí trống đúng mẫu cqdt rubric import đọc, mỗi loại dòng có một dòng ví dụ."""
    try:
        write_template(output)
    except OSError as exc:
        raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    click.echo(render("rubric_template", lang="cli", output=output))


COMMANDS = [rubric_group]

"""The coordinator's charts, drawn from reports of a real database: valid PNGs, band colours, Vietnamese text."""

from __future__ import annotations

import io
import random
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from sqlalchemy import select, update

from bot.charts import (
    MAX_BARS,
    NO_BAND,
    band_colours,
    bands_chart,
    bands_figure,
    png_of,
    totals_chart,
    totals_figure,
)
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.answers import set_answer
from storage.campaigns import CampaignSpec
from storage.models import Agency, Submission
from storage.records import SUBMITTED
from storage.reports import LevelReport, campaign_report

NOW = datetime(2019, 10, 14, 2, tzinfo=UTC)
HEADER = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"
RUBRICS = {"huyen": "qn2018-huyen", "xa": "qn2018-xa"}
NO_DATA = {"vi": "Chưa có đơn vị nào để vẽ biểu đồ.", "en": "No agencies to chart yet."}
TITLE = {"vi": "Tổng điểm theo đơn vị — Cấp xã (1 đơn vị)", "en": "Total score by agency — Commune level (1 agency)"}
GOOD = {"vi": "Tốt (80–100 %)", "en": "Good (80–100 %)"}


class Generous(random.Random):
    """Drives sample_answers to the best answers a rubric allows: every yes, every option, the highest number."""

    def random(self) -> float:
        return 0.0

    def randint(self, a: int, b: int) -> int:
        return b


def campaign_with(db, agencies_csv: str) -> int:
    rubrics = {level: bundled()[rid] for level, rid in RUBRICS.items()}
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, NOW + timedelta(days=14)))
        if agencies_csv:
            import_csv(session, campaign, HEADER + agencies_csv)
        return campaign.id


def answer(db, code: str, rng: random.Random) -> None:
    rubric = bundled()[RUBRICS["xa"]]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        current: dict = {}
        for qid, value in sample_answers(rubric, rng, na_rate=0).items():
            set_answer(session, rubric, agency, qid, value, by=None, source="test", now=NOW, current=current)
            current[qid] = value
        session.execute(update(Submission).where(Submission.agency_id == agency.id).values(state=SUBMITTED))


def reports_of(db, campaign_id: int) -> dict[str, LevelReport]:
    with db.session() as session:
        return campaign_report(session, campaigns.get(session, campaign_id))


def image_of(png: bytes) -> Image.Image:
    """The decoded PNG, after checking its signature and that Telegram would take it as a photo."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    assert 800 <= image.width <= 2000 and 200 <= image.height <= 10000 - image.width
    return image.convert("RGB")


def drawn(figure: Figure) -> tuple[Image.Image, Counter]:
    """The PNG of ``figure`` and the count of each colour inside its chart area (legend and titles left out)."""
    image = image_of(png_of(figure))
    box = figure.axes[0].get_window_extent()
    area = image.crop((round(box.x0), image.height - round(box.y1), round(box.x1), image.height - round(box.y0)))
    return image, Counter(area.get_flattened_data())


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in to_rgb(colour))


def texts_of(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def legend_of(figure: Figure) -> list[str]:
    return [t.get_text() for legend in figure.legends for t in legend.get_texts()]


def bar_heights_by_colour(figure: Figure) -> Counter:
    heights: Counter = Counter()
    for patch in figure.axes[0].patches:
        heights[to_hex(patch.get_facecolor())] += patch.get_height()
    return heights


def band_counts(report: LevelReport) -> Counter:
    colours = band_colours(report.rubric)
    return Counter(colours.get(e.effective.band, NO_BAND) for e in report.agencies)


def assert_colours(counts: Counter, present: set[str], possible: set[str]) -> None:
    """Every colour in ``present`` fills a real area of the chart; no other band colour appears at all."""
    for colour in possible:
        if colour in present:
            assert counts[rgb(colour)] > 30, colour
        else:
            assert counts[rgb(colour)] == 0, colour


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_agencies_give_an_empty_chart_with_a_note(db, lang):
    reports = reports_of(db, campaign_with(db, ""))
    assert reports["xa"].agencies == []
    for figure in (
        totals_figure(reports["xa"], lang=lang),
        bands_figure(reports, lang=lang),
        bands_figure({}, lang=lang),
    ):
        assert NO_DATA[lang] in texts_of(figure)
        assert not figure.axes[0].patches and not figure.legends
        image = image_of(png_of(figure))
        colours = {rgb(c) for c in [*band_colours(reports["xa"].rubric).values(), NO_BAND]}
        assert not colours & set(image.get_flattened_data())
        assert min(image.convert("L").get_flattened_data()) < 100  # the note is written
    image_of(totals_chart(reports["xa"], lang=lang))
    image_of(bands_chart({}, lang=lang))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_one_agency_is_a_bar_in_its_band_colour(db, lang):
    campaign_id = campaign_with(db, "06652,UBND Phường Hà Phong,xa,,,,\n")
    answer(db, "06652", Generous(1))
    reports = reports_of(db, campaign_id)
    report = reports["xa"]
    (entry,) = report.agencies
    assert entry.effective.band == "Tốt"
    colours = band_colours(report.rubric)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = totals_figure(report, lang=lang)
        _, counts = drawn(figure)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert TITLE[lang] in texts_of(figure) and "100,00" in texts_of(figure)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["UBND Phường Hà Phong"]
    assert GOOD[lang] in legend_of(figure) and len(legend_of(figure)) == 3
    assert_colours(counts, {colours["Tốt"]}, {*colours.values(), NO_BAND})
    figure = bands_figure(reports, lang=lang)
    assert len(figure.axes[0].get_yticklabels()) == 1  # the district level has no agency: no row
    _, counts = drawn(figure)
    assert_colours(counts, {colours["Tốt"]}, {*colours.values(), NO_BAND})
    image_of(totals_chart(report, lang=lang))
    image_of(bands_chart(reports, lang=lang))


@pytest.fixture
def city(db):
    """A city and its 200 wards; 24 have answered, every third of them as well as the rubric allows."""
    wards = "".join(f"P{n:03d},UBND Phường {n},xa,193,,,\n" for n in range(1, 201))
    campaign_id = campaign_with(db, "193,UBND Thành phố Hạ Long,huyen,,,,\n" + wards)
    for n in range(1, 25):
        answer(db, f"P{n:03d}", Generous(n) if n % 3 == 0 else random.Random(n))
    return reports_of(db, campaign_id)


def test_a_city_of_200_wards_is_a_histogram_stacked_by_band(city):
    report = city["xa"]
    assert len(report.agencies) == 200 > MAX_BARS
    by_colour = band_counts(report)
    assert len(by_colour) >= 2
    figure = totals_figure(report, lang="vi")
    texts = texts_of(figure)
    assert "Phân bố tổng điểm — Cấp xã (200 đơn vị)" in texts
    assert any(t.startswith("Cao nhất 100,00 · trung vị ") for t in texts)
    assert bar_heights_by_colour(figure) == by_colour
    _, counts = drawn(figure)
    assert_colours(counts, set(by_colour), {*band_colours(report.rubric).values(), NO_BAND})


def test_the_bands_of_a_city_by_level(city):
    everywhere = band_counts(city["xa"]) + band_counts(city["huyen"])
    figure = bands_figure(city, lang="vi")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["Cấp huyện\n(1 đơn vị)", "Cấp xã\n(200 đơn vị)"]
    assert str(max(band_counts(city["xa"]).values())) in texts_of(figure)
    _, counts = drawn(figure)
    assert_colours(counts, set(everywhere), {*band_colours(city["xa"].rubric).values(), NO_BAND})
    image_of(bands_chart(city, lang="en"))


def test_up_to_60_agencies_are_bars_highest_first(city):
    report = city["xa"]
    part = LevelReport(report.level, report.rubric, report.agencies[:MAX_BARS])
    expected = part.ranked()  # by rank, then the agencies that did not submit
    figure = totals_figure(part, lang="vi")
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == [e.agency.name for e in expected]
    assert [p.get_width() for p in figure.axes[0].patches] == [float(e.effective.total) for e in expected]
    assert "Tổng điểm theo đơn vị — Cấp xã (60 đơn vị)" in texts_of(figure)
    _, counts = drawn(figure)
    assert [e.agency.code for e in expected[24:]] == sorted(f"P{n:03d}" for n in range(25, 61))
    assert {e.effective.band for e in expected[24:]} == {None}
    drawn_bands = band_counts(LevelReport(report.level, report.rubric, [e for e in part.agencies if e.effective.total]))
    assert_colours(counts, set(drawn_bands), {*band_colours(report.rubric).values(), NO_BAND})

"""The pages as a person sees them: headless Chromium loads each kind (image run, 2D run, comparison),
no console error, the figures and sliders are there and moving a slider changes the step shown."""

from __future__ import annotations

import re

import gankit
from gankit.cli import main
from gankit.report.record import read_run
from tests.browser import open_page


def move(page, slider: str, index: int) -> None:
    page.run(f"const i = document.querySelector('#{slider} input'); i.value = {index}; "
             "i.dispatchEvent(new Event('input'));")


def check_slider(page, slider: str, labels: list[str]) -> None:
    box = page.find(f"#{slider}")[0]
    assert box.get_attribute("data-shown") == str(len(labels) - 1) and labels[-1] in box.text
    shown_src = page.run(f"return [...document.querySelectorAll('#{slider} .frame')]"
                         ".filter(f => f.style.display !== 'none').map(f => f.innerHTML)")
    move(page, slider, 0)
    assert box.get_attribute("data-shown") == "0" and labels[0] in box.text
    visible = page.run(f"return [...document.querySelectorAll('#{slider} .frame')].map(f => f.style.display !== 'none')")
    assert visible == [True] + [False] * (len(labels) - 1)
    now = page.run(f"return [...document.querySelectorAll('#{slider} .frame')]"
                   ".filter(f => f.style.display !== 'none').map(f => f.innerHTML)")
    assert now != shown_src  # another picture is on screen


def captions(page) -> list[str]:
    return [c.text for c in page.find("figcaption")]


def self_contained(path) -> None:
    text = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<script src" not in text and "<link" not in text


def test_image_run_page(image_run, tmp_path):
    path = gankit.report(image_run, out=tmp_path / "report.html")
    assert path == tmp_path / "report.html" and (image_run / "report.html").is_file()  # the trainer wrote one too
    self_contained(path)
    with open_page(path) as page:
        assert page.errors() == []
        assert "D's and G's losses over steps" in captions(page)
        assert any(c.startswith("D's accuracy on real and on fake") for c in captions(page))
        loaded = page.run("return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert loaded and len(page.find("img")) >= 2 + 3  # two curves, three grids
        check_slider(page, "samples", ["step 2", "step 4", "step 6"])
        for heading in ("Diagnosis", "Training curves", "Samples over training", "Quality figure", "gankit eval",
                        "Checkpoints and wall time", "Config and how to reproduce the run"):
            assert heading in [h.text for h in page.find("h2")]
        assert [h.text for h in page.find("h3")] == ["fid", "kid", "memorization", "entropy"]
        assert "gankit train --config" in page.find("pre")[0].text
        assert page.screenshot(tmp_path / "image-run.png").read_bytes()[:4] == b"\x89PNG"


def test_toy_run_page_shows_the_game(toy_run, tmp_path):
    assert main(["report", str(toy_run), "--out", str(tmp_path / "toy.html")]) == 0
    record = read_run(toy_run)
    assert [s for s, _ in record.toy_frames] == [2, 4, 6] and record.data_kind == "2d"
    with open_page(tmp_path / "toy.html") as page:
        assert page.errors() == []
        assert "The game on the plane" in [h.text for h in page.find("h2")]
        check_slider(page, "game", ["step 2", "step 4", "step 6"])
        check_slider(page, "samples", ["step 2", "step 4", "step 6"])
        page.screenshot(tmp_path / "toy-run.png")


def test_compare_page(image_run, toy_run, tmp_path, capsys):
    assert main(["compare", str(image_run), str(toy_run), "--out", str(tmp_path / "cmp.html")]) == 0
    out = capsys.readouterr().out
    assert "config keys that differ:" in out and re.search(r"data\.name\s+digits\s+ring8", out)
    assert "train.steps" not in out.split("figures:")[0]  # equal in both runs: not listed
    # steps 0..6 in 40 columns: blank before the first log (step 2, 13 columns), then one block per column
    assert re.search(r"d_acc_real \[[^\]]*\]\n    \[1\] {14}[▁-█]{27}\n    \[2\] {14}[▁-█]{27}\n", out)
    self_contained(tmp_path / "cmp.html")
    with open_page(tmp_path / "cmp.html") as page:
        assert page.errors() == []
        assert len([c for c in captions(page) if "of every run over steps" in c]) == 2
        check_slider(page, "samples", ["step 2", "step 4", "step 6"])
        page.screenshot(tmp_path / "compare.png")

"""The HTML blocks: escaping, self-containment, the slider in a real browser, output-path errors."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from gankit.errors import GankitError  # noqa: E402
from gankit.report import html  # noqa: E402
from tests.browser import open_page  # noqa: E402


def _fig():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def test_text_is_escaped_and_numbers_are_formatted():
    out = html.table(["<k>", "v"], [["<script>x</script>", 0.123456789], ["n", 7], ["none", None]])
    assert "<script>x" not in out and "&lt;script&gt;x&lt;/script&gt;" in out and "&lt;k&gt;" in out
    assert '<td class="num">0.1235</td>' in out and '<td class="num">7</td>' in out and "<td></td>" in out


def test_page_is_self_contained():
    doc = html.page("t", [html.figure(_fig(), "a line"), html.paragraph("p")])
    assert "data:image/png;base64," in doc
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", doc)  # nothing fetched from the network


def test_slider_needs_one_label_per_frame():
    with pytest.raises(ValueError):
        html.slider(["a", "b"], ["1"], "steps")
    with pytest.raises(ValueError):
        html.slider([], [], "steps")


def test_write_page_rejects_bad_out_paths(tmp_path):
    with pytest.raises(GankitError, match=r"\.html"):
        html.write_page(tmp_path / "r.png", "t", [])
    (tmp_path / "d.html").mkdir()
    with pytest.raises(GankitError, match="is a folder"):
        html.write_page(tmp_path / "d.html", "t", [])
    (tmp_path / "file").write_text("x")
    with pytest.raises(GankitError, match="cannot write there"):
        html.write_page(tmp_path / "file" / "r.html", "t", [])
    assert not list(tmp_path.glob("*.tmp"))


def test_slider_moves_in_a_browser(tmp_path):
    frames = [html.image(html.figure_png(_fig()), f"frame {i}") for i in range(3)]
    path = html.write_page(tmp_path / "r.html", "slider", [html.slider(frames, ["step 0", "step 10", "step 20"],
                                                                       "grids")])
    with open_page(path) as page:
        assert page.errors() == []
        box = page.find("#grids")[0]
        assert box.get_attribute("data-shown") == "2" and "step 20" in box.text
        page.run("const i = document.querySelector('#grids input'); i.value = 0; i.dispatchEvent(new Event('input'));")
        assert box.get_attribute("data-shown") == "0" and "step 0" in box.text
        visible = page.run("return [...document.querySelectorAll('#grids .frame')].map(f => f.style.display !== 'none')")
        assert visible == [True, False, False]


def test_callout_and_details_escape_their_text():
    box = html.callout("D <wins>", ["a < b", "c"])
    assert box == '<div class="finding"><strong>D &lt;wins&gt;</strong><br>a &lt; b<br>c</div>'
    assert html.callout("fine", [], ok=True).startswith('<div class="finding ok">')
    assert html.details("fp <x>", "<table></table>") == "<details><summary>fp &lt;x&gt;</summary><table></table></details>"


def test_check_out_accepts_a_new_html_path_and_names_what_is_wrong(tmp_path):
    assert html.check_out(tmp_path / "new" / "deeper" / "r.html") == tmp_path / "new" / "deeper" / "r.html"
    (tmp_path / "f").write_text("x")
    with pytest.raises(GankitError, match=r"cannot write there \(.*/f is a file\)"):
        html.check_out(tmp_path / "f" / "deeper" / "r.html")
    assert not (tmp_path / "new").exists()  # checking creates nothing

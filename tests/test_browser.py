"""The browser harness itself: it sees console errors, moves a slider and takes a screenshot."""

from __future__ import annotations

from tests.browser import open_page

PAGE = """<!doctype html><html><body><h1 id="t">step 0</h1><input type="range" id="s" min="0" max="3" value="0">
<script>
document.getElementById('s').oninput = e => { document.getElementById('t').textContent = 'step ' + e.target.value; };
%s
</script></body></html>"""


def test_console_errors_are_seen_and_a_clean_page_has_none(tmp_path):
    bad, good = tmp_path / "bad.html", tmp_path / "good.html"
    bad.write_text(PAGE % "console.error('boom'); undefinedFunction();")
    good.write_text(PAGE % "")
    with open_page(bad) as page:
        errors = page.errors()
        assert len(errors) == 2 and "boom" in errors[0] and "undefinedFunction" in errors[1]
    with open_page(good) as page:
        assert page.errors() == []
        page.run("const s = document.getElementById('s'); s.value = 2; s.dispatchEvent(new Event('input'));")
        assert page.find("#t")[0].text == "step 2"
        shot = page.screenshot(tmp_path / "shot.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

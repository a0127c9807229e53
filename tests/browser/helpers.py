"""What every browser test does: sign in and out as a demo person, check a page with
axe-core while keeping its screenshot, and move the keyboard focus like a person who
cannot use a mouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

# Where each checked page's screenshot is kept (not committed).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Axe()
SERIOUS = {"serious", "critical"}


def check(page: Any, name: str) -> None:
    """axe-core on the page as it stands, and a screenshot kept as an artefact."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in AXE.run(page).response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert not violations, f"{name}: {violations}"


def sign_in(page: Any, username: str, password: str = "demo") -> None:
    page.goto(f"{page.base_url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{page.base_url}/")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")


# What the focused element is, as a plain dict the predicates of ``tab_to`` read.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const labels = el.labels ? Array.from(el.labels).map(l => l.innerText.trim()) : [];
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute('type') || '',
    id: el.id,
    name: el.getAttribute('name') || '',
    value: el.value === undefined ? '' : String(el.value),
    text: (el.innerText || '').trim(),
    label: labels.join(' '),
    href: el.getAttribute('href') || '',
    focusVisible: el.matches(':focus-visible'),
  };
}"""


def focused(page: Any) -> dict[str, Any] | None:
    """The element that has the keyboard focus (None: the page itself)."""
    return page.evaluate(FOCUSED)


def tab_to(
    page: Any, predicate: Callable[[dict[str, Any]], bool], limit: int = 60
) -> dict[str, Any]:
    """Press Tab until the focused element matches ``predicate``, as a keyboard user
    would; fails after ``limit`` presses, saying what was reached on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element is not None and predicate(element):
            return element
        seen.append(element and (element["tag"], element["label"] or element["text"][:40]))
    raise AssertionError(f"not reached in {limit} Tab presses; went through {seen}")


def focus_is_visible(page: Any) -> bool:
    """The focused element matches :focus-visible and a ring can be seen: its own
    outline or shadow, or, for the DSFR's radio buttons and checkboxes (the input is
    transparent, drawn by its label), the label's ::before."""
    return bool(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || !el.matches(':focus-visible')) return false;
              const ring = (style) =>
                (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || (style.boxShadow && style.boxShadow !== 'none');
              const style = getComputedStyle(el);
              if (parseFloat(style.opacity) > 0) return ring(style);
              const label = el.labels && el.labels[0];
              return !!label && ring(getComputedStyle(label, '::before'));
            }"""
        )
    )

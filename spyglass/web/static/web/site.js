// Behaviour shared by every page: the top bar's Menu button on narrow screens, copy buttons, the keyboard of tab
// lists (ARIA tabs pattern) and a dialog's first field taking the focus when it opens (docs/accessibility.md).

const menuButton = document.getElementById("menu-button");
if (menuButton) {
  const menu = document.getElementById(menuButton.getAttribute("aria-controls"));
  const setOpen = (open) => {
    menuButton.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  };
  menuButton.addEventListener("click", () => setOpen(menuButton.getAttribute("aria-expanded") !== "true"));
  // Escape closes the open menu and gives the focus back to its button.
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menuButton.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      menuButton.focus();
    }
  });
}

// The skip link moves the focus itself: a fragment navigation fires popstate, which htmx answers by reloading the
// page (refreshOnHistoryMiss) and the focus would land at the top again.
document.addEventListener("click", (event) => {
  const skip = event.target.closest?.(".skip-link");
  const target = skip && document.querySelector(skip.getAttribute("href"));
  if (!target) return;
  event.preventDefault();
  target.focus();
  target.scrollIntoView();
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch {
    // Clipboard access can be refused (plain http, permissions): select the text so Ctrl+C works.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Press Ctrl+C";
  }
});

// Tabs: one tab stop per tab list (the selected tab); arrow keys, Home and End move between tabs and select them
// by clicking, so that the page's own click handler shows the panel.
function rovingTabs(list) {
  for (const tab of list.querySelectorAll("[role=tab]")) {
    tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
  }
}

document.addEventListener("keydown", (event) => {
  const tab = event.target.closest?.("[role=tablist] [role=tab]");
  if (!tab) return;
  const tabs = [...tab.closest("[role=tablist]").querySelectorAll("[role=tab]")];
  const at = tabs.indexOf(tab);
  const next = {
    ArrowRight: tabs[(at + 1) % tabs.length],
    ArrowLeft: tabs[(at - 1 + tabs.length) % tabs.length],
    Home: tabs[0],
    End: tabs[tabs.length - 1],
  }[event.key];
  if (!next) return;
  event.preventDefault();
  next.click();
  next.focus();
});

// Whoever selects a tab (a click, the keys above, the page's script), the tab stop follows the selection.
new MutationObserver((records) => {
  for (const { target } of records) {
    const list = target.closest("[role=tablist]");
    if (list && target.getAttribute("role") === "tab") rovingTabs(list);
  }
}).observe(document.body, { subtree: true, attributeFilter: ["aria-selected"] });
for (const list of document.querySelectorAll("[role=tablist]")) rovingTabs(list);

// A dialog that opens puts the focus on its first field (not on the close button in its corner). The dialog's own
// `autofocus` element wins when it has one.
const FIELD = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";

function focusFirstField(dialog) {
  if (dialog.querySelector("[autofocus]")) return;
  const field = [...dialog.querySelectorAll(FIELD)].find((el) => el.offsetParent !== null);
  field?.focus();
}

// Watched on the whole document: htmx swaps in new dialogs (the results component with its Share panel).
new MutationObserver((records) => {
  for (const { target } of records) if (target instanceof HTMLDialogElement && target.open) focusFirstField(target);
}).observe(document.body, { subtree: true, attributeFilter: ["open"] });

document.addEventListener("htmx:afterSettle", () => {
  for (const list of document.querySelectorAll("[role=tablist]")) rovingTabs(list);
});

// A form that comes back with errors puts the focus on its first invalid field (its error is tied to it by
// aria-describedby, so a screen reader reads both).
document.querySelector("form [aria-invalid=true]")?.focus();

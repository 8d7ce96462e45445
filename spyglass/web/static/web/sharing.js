// Sharing › Snapshots: expand a test's snapshots and a snapshot's details (confirm.js asks before revoking).

function setExpanded(button, expanded) {
  button.setAttribute("aria-expanded", String(expanded));
  button.textContent = expanded ? "▾" : "▸";
  for (const row of document.querySelectorAll(`[data-parent="${button.dataset.toggle}"]`)) {
    row.hidden = !expanded;
    // Collapsing a test also collapses the details opened inside it.
    const inner = row.querySelector("[data-toggle]");
    if (!expanded && inner) setExpanded(inner, false);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-toggle]");
  if (button) setExpanded(button, button.getAttribute("aria-expanded") !== "true");
});

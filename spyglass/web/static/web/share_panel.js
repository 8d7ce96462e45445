// The share panel's flow (issue 22): one share action makes one snapshot. After "Link to this snapshot" or "Share",
// the result replaces the form — that snapshot's link with Copy focused, "E-mail it", Revoke, "New snapshot" — and
// the form comes back, with a fresh idempotency key, only on "New snapshot" or when the panel is opened again. The
// window preview is asked again whenever the panel opens (results.js fills in the selected round first).

const panel = document.getElementById("share-panel");
const fields = document.getElementById("share-fields");
const result = document.getElementById("share-result");
const key = document.getElementById("share-idempotency-key");
const buttons = panel?.querySelector(".share-buttons");
let nextKey = null; // set once a snapshot was made (or revoked): the key the next form is sent with

function showForm() {
  if (!fields) return;
  fields.hidden = false;
  if (buttons) buttons.hidden = false;
  if (nextKey && key) key.value = nextKey;
  nextKey = null;
}

function showResult(done) {
  nextKey = done.dataset.newKey || null;
  fields.hidden = true;
  if (buttons) buttons.hidden = true;
  const copy = document.getElementById("share-copy") || document.getElementById("share-new");
  done.scrollIntoView({ block: "nearest" });
  copy?.focus();
}

if (panel && fields && result) {
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== result) return;
    const done = result.querySelector(".share-done");
    if (done) showResult(done);
    else result.scrollIntoView({ block: "nearest" }); // an error: its message in view, the form kept
  });

  panel.addEventListener("click", (event) => {
    if (!event.target.closest("[data-new-snapshot]")) return;
    result.replaceChildren();
    showForm();
    document.getElementById("share-name")?.focus();
  });

  // results.js empties the result when it opens the panel: the form is back, and the preview is asked anew.
  new MutationObserver(() => {
    if (!result.hasChildNodes()) showForm();
  }).observe(result, { childList: true });
  new MutationObserver(() => {
    const preview = document.getElementById("share-window-preview");
    if (panel.open && preview && window.htmx) window.htmx.trigger(preview, "share-panel-opened");
  }).observe(panel, { attributes: true, attributeFilter: ["open"] });
}

// The share panel's flow (issue 22): one share action makes one snapshot. After "Link to this snapshot" or "Share",
// the result replaces the form — that snapshot's link with Copy focused, "E-mail it", Revoke, "New snapshot" — and
// the form comes back, with a fresh idempotency key, only on "New snapshot" or when the panel is opened again. The
// window preview is asked again whenever the panel opens (results.js fills in the selected round first).
// Elements are looked up on every event: htmx re-renders the results component (and the panel in it) when the
// round or View changes.

const $ = (id) => document.getElementById(id);
let nextKey = null; // set once a snapshot was made (or revoked): the key the next form is sent with

function showForm() {
  const fields = $("share-fields");
  if (!fields) return;
  fields.hidden = false;
  const buttons = document.querySelector("#share-panel .share-buttons");
  if (buttons) buttons.hidden = false;
  const key = $("share-idempotency-key");
  if (nextKey && key) key.value = nextKey;
  nextKey = null;
}

function showResult(done) {
  nextKey = done.dataset.newKey || null;
  $("share-fields").hidden = true;
  const buttons = document.querySelector("#share-panel .share-buttons");
  if (buttons) buttons.hidden = true;
  done.scrollIntoView({ block: "nearest" });
  ($("share-copy") || $("share-new"))?.focus();
}

document.body.addEventListener("htmx:afterSwap", (event) => {
  const result = $("share-result");
  if (!result || event.detail.target !== result) return;
  const done = result.querySelector(".share-done");
  if (done) showResult(done);
  else result.scrollIntoView({ block: "nearest" }); // an error: its message in view, the form kept
});

// Registered after results.js's own click handler (module order): the panel is open, its result emptied.
document.addEventListener("click", (event) => {
  if (event.target.closest("#share-button")) {
    showForm();
    const preview = $("share-window-preview");
    if (preview && window.htmx) window.htmx.trigger(preview, "share-panel-opened");
  } else if (event.target.closest("#share-panel [role=tab]")) {
    // results.js shows the Link/Share buttons again on the Snapshot Sharing tab: not while a snapshot is shown.
    const buttons = document.querySelector("#share-panel .share-buttons");
    if (buttons && $("share-fields")?.hidden) buttons.hidden = true;
  } else if (event.target.closest("#share-panel [data-new-snapshot]")) {
    $("share-result")?.replaceChildren();
    showForm();
    $("share-name")?.focus();
  }
});

// Enter in "E-mail this link to" sends it (the field sits inside the panel's form, whose own submit would only
// answer the snapshot already made).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.target.id !== "share-email-to") return;
  event.preventDefault();
  $("share-email-button")?.click();
});

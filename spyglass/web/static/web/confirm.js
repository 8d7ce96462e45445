// Confirmation in the page instead of the browser's confirm(): one <dialog> for htmx's hx-confirm and for plain
// forms with data-confirm="question" (data-confirm-button="Revoke" names the confirming button). Focus goes to
// Cancel, Escape cancels, and focus returns to the button that asked.

let dialog = null;
let pending = null; // { run, invoker } while the dialog is open

function build() {
  dialog = document.createElement("dialog");
  dialog.className = "confirm-dialog";
  dialog.id = "confirm-dialog";
  dialog.setAttribute("aria-labelledby", "confirm-dialog-message");
  const message = document.createElement("p");
  message.id = "confirm-dialog-message";
  message.className = "confirm-message";
  const actions = document.createElement("div");
  actions.className = "confirm-actions";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "confirm-cancel";
  cancel.textContent = "Cancel";
  const ok = document.createElement("button");
  ok.type = "button";
  ok.className = "danger confirm-ok";
  actions.append(cancel, ok);
  dialog.append(message, actions);
  document.body.append(dialog);
  cancel.addEventListener("click", () => dialog.close("cancel"));
  ok.addEventListener("click", () => dialog.close("confirm"));
  // Escape fires "cancel" and closes the dialog with an empty returnValue: handled as a cancel below.
  dialog.addEventListener("close", () => {
    const done = pending;
    pending = null;
    if (!done) return;
    if (done.invoker?.isConnected) done.invoker.focus();
    if (dialog.returnValue === "confirm") done.run();
  });
}

function ask(question, button, invoker, run) {
  if (!dialog) build();
  if (dialog.open) return;
  dialog.querySelector(".confirm-message").textContent = question;
  dialog.querySelector(".confirm-ok").textContent = button || "Confirm";
  dialog.returnValue = "";
  pending = { run, invoker };
  dialog.showModal();
  dialog.querySelector(".confirm-cancel").focus();
}

// htmx: hx-confirm="…" asks here; the request goes out only once confirmed.
document.addEventListener("htmx:confirm", (event) => {
  const question = event.detail.question;
  if (!question) return;
  event.preventDefault();
  const element = event.detail.elt;
  const invoker = element.matches("form") ? element.querySelector("[type=submit]") : element;
  const button = element.closest("[data-confirm-button]")?.dataset.confirmButton;
  ask(question, button, invoker || document.activeElement, () => event.detail.issueRequest(true));
});

// Plain forms: data-confirm="…" holds the submission until confirmed, then submits it as it was (same submitter).
const confirmed = new WeakSet();
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (!form) return;
  if (confirmed.has(form)) {
    confirmed.delete(form);
    return;
  }
  event.preventDefault();
  const submitter = event.submitter;
  ask(form.dataset.confirm, form.dataset.confirmButton, submitter || document.activeElement, () => {
    confirmed.add(form);
    form.requestSubmit(submitter || undefined);
  });
});

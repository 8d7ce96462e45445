// The dashboard's scheduled report form: shows the weekday for a weekly schedule and the day of the month for a
// monthly one (without JavaScript both stay visible; the server reads only the one the frequency needs). htmx swaps
// the whole section after a save, so the form is set up again then.

function setUp() {
  const form = document.getElementById("report-schedule-form");
  if (!form || form.dataset.ready) return;
  form.dataset.ready = "1";
  const frequency = form.querySelector("#rs-frequency");
  const show = () => {
    for (const field of form.querySelectorAll("[data-for-frequency]")) {
      field.hidden = field.dataset.forFrequency !== frequency.value;
    }
  };
  frequency.addEventListener("change", show);
  show();
}

setUp();
document.body.addEventListener("htmx:afterSwap", setUp);

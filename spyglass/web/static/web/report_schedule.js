// The dashboard's scheduled report form: shows the weekday for a weekly schedule and the day of the month for a
// monthly one (without JavaScript both stay visible; the server reads only the one the frequency needs).

function showFieldsFor(form) {
  const frequency = form.querySelector("#rs-frequency").value;
  for (const field of form.querySelectorAll("[data-for-frequency]")) {
    field.hidden = field.dataset.forFrequency !== frequency;
  }
}

const form = document.getElementById("report-schedule-form");
if (form) {
  showFieldsFor(form);
  form.querySelector("#rs-frequency").addEventListener("change", () => showFieldsFor(form));
}

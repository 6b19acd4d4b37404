// Batch job page: poll /batches/<id>.json while the job is queued or running, move the progress bar, and
// reload the page once the job has finished (to show the summary, the table and the downloads). Served from
// the app's own static files (the CSP allows no inline script); writes text only, never HTML.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box || box.dataset.running !== "true") { return; }
  var bar = document.getElementById("job-bar");
  var text = document.getElementById("job-progress-text");
  var status = document.getElementById("job-status");
  var words = JSON.parse(text.dataset.words);
  var finished = { done: true, failed: true, cancelled: true };
  var delay = 700;

  function show(job) {
    bar.value = job.progress;
    bar.textContent = Math.round(job.progress * 100) + "%";
    var line = job.rows_done + " / " + (job.rows_total === null ? "?" : job.rows_total) + " " + words.rows;
    if (job.reports_total) {
      line += " \u00b7 " + job.reports_done + " / " + job.reports_total + " " + words.reports;
    }
    text.textContent = line;
    status.dataset.status = job.status;
  }

  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (finished[job.status]) {
          window.location.reload();
        } else {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, delay);
}());

// Asks before an irreversible form is sent: forms carry data-confirm="<question>".
// Loaded from a file because the Content-Security-Policy forbids inline handlers.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

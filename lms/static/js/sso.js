// Single sign-on: the provider's answer arrives as a GET, which changes nothing on our side; this sends the page's
// form (the code, the state and our CSRF token) on at once, so the sign-in itself is a POST. Without JavaScript,
// the form's button does the same.
(function () {
  "use strict";
  var form = document.getElementById("sso-finish");
  if (form) {
    form.submit();
  }
})();

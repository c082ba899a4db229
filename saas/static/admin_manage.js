// Flask-Admin's page template gives <html> no lang and no block to add one: screen readers need it to
// pick their voice. Runs in <head>, before the body is read.
document.documentElement.lang = document.currentScript.dataset.language;

// The privacy engine: taxonomy, sensitive-attribute detection, templates, oblivious candidate
// sets, privacy accounting and the prompt audit. It holds no model code and is never linked into
// anything that could learn which candidate is real.

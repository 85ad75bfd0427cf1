// The privacy engine: taxonomy, sensitive-attribute detection, templates, oblivious candidate
// sets, privacy accounting and the prompt audit. It holds no model code and is never linked into
// anything that could learn which candidate is real.
//
// Entry points: `Obfuscator(taxonomy:).obfuscate(prompt)` → `CandidateSet` (send `candidates`,
// keep `realIndex`, show `report`); `SubsetMechanism` for the DP subset mode; `PromptAudit` and
// `RecallProbe` for the leak audit; `Taxonomy.bundled("default" | "extended")` or
// `Taxonomy.load(contentsOf:)` for the attribute data (Resources/*.json).

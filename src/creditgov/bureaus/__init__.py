"""Credit bureaus (征信机构): grassroots credit information shared with the People's Bank
of China's Credit Reference Center and licensed bureaus. Which items may go is the
catalogue's per-item marker (`bureau: <term>` with its citation); which subjects, their
consent to that bureau (security's `AccessConsent`, organisation `bureau:<code>`) or a
term the law allows without consent; how, a plugin per bureau behind `exporters.Exporter`
(entry points `creditgov.bureau_exporters`, the shipped one writing a JSON Lines or CSV
file). Runs are numbered per bureau, written whole or not at all, acknowledged, and a run
written again is the same bytes. docs/bureaus.md."""

"""Printable documents (文书): list notices (告知书) and list decisions (认定决定书) as
PDF, with the office's seal image and a verification QR code, one PDF for a whole
batch of a list's entries."""

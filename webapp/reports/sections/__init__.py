"""The sections of the PDF report, each a function from the assessment to flowables."""

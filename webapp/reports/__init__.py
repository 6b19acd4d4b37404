"""Reports: PDF, charts and text renderings of an assessment; reportlab only, never Flask."""

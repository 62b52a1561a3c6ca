"""PDF documents with reportlab: receipts now, statements and reports later. No Qt."""

"""An app that uses the batch worker: events summed into totals, and a stepping demo."""

"""The message path: ESME binds, the pipeline of one submit_sm, upstream routes, ids and receipts."""

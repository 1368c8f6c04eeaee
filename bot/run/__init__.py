"""The runtime: builds the app from the features and carries messages and jobs through it.
The only part of `bot/` that imports `handlers`."""

"""The resource groups of the emulated API, one module each; the server imports every module here."""

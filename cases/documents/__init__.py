"""Documents for the client: the Integrationsplan and the consent form with
its information sheet, printed in the client's language beside German."""

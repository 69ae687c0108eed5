"""The operator command line, installed as the ``licensebot`` console script."""

class RunFailed(Exception):
    pass

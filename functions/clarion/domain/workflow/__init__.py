"""The incident workflow's steps and the commands people use to drive incidents by hand."""

package main

const passwdFile = "/etc/passwd"

func runCheck(args []string) int { return 0 }

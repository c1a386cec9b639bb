/* smtp_cmd.c: being written */

/* cmd_config.c: being written */

/* users.c: being written */

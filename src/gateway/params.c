/* params.c: being written */

-- Fails the statement that calls it (and so its transaction) with SQLSTATE OV001 and the check's name
-- as the message: how a statement refuses an outcome when its COMMIT is already pipelined behind it.
CREATE FUNCTION fail_statement(check_name text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'OV001', MESSAGE = check_name;
END
$$;

package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick start compiles and runs as written: the Hello class, with the pool snippet inside it. */
class ReadmeQuickStartTest {

    @Test
    void theQuickStartShouldCompileAndRunAsPasted(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertThat(blocks).as("the Hello class and the pool snippet").hasSizeGreaterThanOrEqualTo(2);
        String hello = blocks.get(0);
        assertThat(hello).contains("public class Hello");
        StringBuilder pool = new StringBuilder();
        for (String line : blocks.get(1).strip().split("\n")) {
            pool.append("            ").append(line).append('\n');
        }
        String source = hello
                .replace("import io.github.solvk.memory.IBuffer;",
                        "import io.github.solvk.memory.IBuffer;\nimport io.github.solvk.memory.IMemoryPool;")
                .replace("            System.out.println(staging + \" on \" + context.deviceName());\n",
                        "            System.out.println(staging + \" on \" + context.deviceName());\n" + pool);
        Path file = dir.resolve("Hello.java");
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = javac.run(null, null, errors, "-cp", System.getProperty("java.class.path"), "-d",
                dir.toString(), file.toString());
        assertThat(status).as(errors.toString(StandardCharsets.UTF_8)).isZero();
        PrintStream originalOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                ReadmeQuickStartTest.class.getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass("Hello").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(originalOut);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("IBuffer['staging' of 1024 bytes");
    }
}

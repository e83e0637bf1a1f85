package deployer.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import deployer.core.DeployerException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PackagePathTest {

    @ParameterizedTest
    @CsvSource({
        "deploy.json,         false, deploy.json",
        "./deploy.json,       false, deploy.json",
        "model/weights.bin,   false, model/weights.bin",
        "./model/,            true,  model",
        "./,                  true,  ''",
        "lib/a-b_c.1.jar,     false, lib/a-b_c.1.jar",
        "model/.hidden,       false, model/.hidden",
        "model/a..b,          false, model/a..b",
    })
    void plainRelativePathsAreAccepted(String raw, boolean directory, String expected) {
        assertThat(PackagePath.check(raw, directory)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "../evil              | entry '../evil' leaves the package folder",
        "model/../../evil     | entry 'model/../../evil' leaves the package folder",
        "/etc/passwd          | entry '/etc/passwd' is an absolute path",
        "C:evil               | entry 'C:evil' names a drive",
        "c:/evil              | entry 'c:/evil' names a drive",
        "C:\\evil             | entry 'C:\\evil' has a backslash",
        "model\\weights.bin   | entry 'model\\weights.bin' has a backslash",
        "a//b                 | entry 'a//b' has an empty folder name",
        "a/./b                | entry 'a/./b' has a '.' folder",
        "././a                | entry '././a' has a '.' folder",
        ".deployer/classes/X.class | entry '.deployer/classes/X.class' is inside .deployer/",
        "./.deployer/x        | entry './.deployer/x' is inside .deployer/",
        "model/               | entry 'model/' has an empty folder name",
    })
    void unsafePathsAreRefusedNamingTheEntryAndTheRule(String raw, String message) {
        assertThatThrownBy(() -> PackagePath.check(raw, false))
                .isInstanceOf(DeployerException.class)
                .hasMessageStartingWith(message);
    }

    @ParameterizedTest
    @CsvSource({"'a\u0000b', 'a\\u0000b'", "'a\nb', 'a\\u000ab'", "'a\u007fb', 'a\\u007fb'"})
    void controlCharactersAreRefusedAndShownEscaped(String raw, String shown) {
        assertThatThrownBy(() -> PackagePath.check(raw, false))
                .isInstanceOf(DeployerException.class)
                .hasMessage("entry '" + shown + "' has a control character in its name");
    }

    @ParameterizedTest
    @CsvSource({"''", "'./'"})
    void aFileNeedsAName(String raw) {
        assertThatThrownBy(() -> PackagePath.check(raw, false)).isInstanceOf(DeployerException.class);
    }
}
